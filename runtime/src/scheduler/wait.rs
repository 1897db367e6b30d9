//! Wait time between a user's tasks (Locust's `wait_time`).

use std::time::Duration;

use crate::bindings::WaitTime;

/// A user class's wait policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wait {
    None,
    Constant(Duration),
    Between(Duration, Duration),
    /// Start tasks at most once per interval.
    Pacing(Duration),
}

impl Wait {
    /// Checks and converts the guest's policy.
    pub fn from_guest(wait: &WaitTime) -> Result<Wait, String> {
        Ok(match *wait {
            WaitTime::None => Wait::None,
            WaitTime::Constant(us) => Wait::Constant(Duration::from_micros(us)),
            WaitTime::Between((min, max)) if min <= max => {
                Wait::Between(Duration::from_micros(min), Duration::from_micros(max))
            }
            WaitTime::Between((min, max)) => {
                return Err(format!("wait between {min}us and {max}us: min is above max"))
            }
            WaitTime::ConstantPacing(us) => Wait::Pacing(Duration::from_micros(us)),
            WaitTime::ConstantThroughput(per_second)
                if per_second > 0.0 && per_second.is_finite() =>
            {
                Wait::Pacing(Duration::from_secs_f64(1.0 / per_second))
            }
            WaitTime::ConstantThroughput(per_second) => {
                return Err(format!("constant throughput {per_second}/s must be above 0"))
            }
        })
    }

    /// How long to wait after a task that took `task_time`.
    pub fn delay(&self, task_time: Duration, rng: &mut fastrand::Rng) -> Duration {
        match *self {
            Wait::None => Duration::ZERO,
            Wait::Constant(wait) => wait,
            Wait::Between(min, max) => {
                let (min, max) = (min.as_micros() as u64, max.as_micros() as u64);
                Duration::from_micros(rng.u64(min..=max))
            }
            Wait::Pacing(interval) => interval.saturating_sub(task_time),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_subtracts_the_task_time() {
        let mut rng = fastrand::Rng::with_seed(1);
        let wait = Wait::from_guest(&WaitTime::ConstantPacing(1_000_000)).unwrap();
        assert_eq!(wait.delay(Duration::from_millis(300), &mut rng), Duration::from_millis(700));
        assert_eq!(wait.delay(Duration::from_secs(2), &mut rng), Duration::ZERO);
        let throughput = Wait::from_guest(&WaitTime::ConstantThroughput(4.0)).unwrap();
        assert_eq!(throughput, Wait::Pacing(Duration::from_millis(250)));
    }

    #[test]
    fn between_stays_in_range_and_rejects_reversed_bounds() {
        let mut rng = fastrand::Rng::with_seed(1);
        let wait = Wait::from_guest(&WaitTime::Between((1_000, 2_000))).unwrap();
        for _ in 0..100 {
            let delay = wait.delay(Duration::ZERO, &mut rng);
            assert!(delay >= Duration::from_millis(1) && delay <= Duration::from_millis(2));
        }
        assert!(Wait::from_guest(&WaitTime::Between((2, 1))).is_err());
        assert!(Wait::from_guest(&WaitTime::ConstantThroughput(0.0)).is_err());
    }
}
