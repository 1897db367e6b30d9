//! How much load at each moment: `--stages` ramps, and the iteration
//! schedule of the open model for a rate that changes over time.

use std::time::Duration;

/// What `--stages` ramps: users (closed model) or iterations per second
/// (open model, targets written like `100/s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageUnit {
    Users,
    Rate,
}

/// `--stages`: linear ramps from one target to the next, starting at 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    pub unit: StageUnit,
    /// (length, target at its end).
    pub stages: Vec<(Duration, f64)>,
}

impl Stages {
    /// Parses `30s:100,2m:100,30s:0` (users) or `30s:50/s,1m:50/s` (rates).
    pub fn parse(text: &str) -> Result<Stages, String> {
        let mut unit = None;
        let mut stages = Vec::new();
        for stage in text.split(',').map(str::trim) {
            let (length, target) = stage
                .split_once(':')
                .ok_or_else(|| format!("stage `{stage}` is not LENGTH:TARGET, e.g. 30s:100"))?;
            let length = humantime::parse_duration(length.trim())
                .map_err(|e| format!("stage `{stage}`: `{length}` is not a duration ({e})"))?;
            let target = target.trim();
            let (this_unit, value) = if target.contains('/') {
                (StageUnit::Rate, parse_rate(target, true)?)
            } else {
                let users = target
                    .parse::<u32>()
                    .map_err(|_| format!("stage `{stage}`: `{target}` is not a number of users"))?;
                (StageUnit::Users, f64::from(users))
            };
            if unit.is_some_and(|unit| unit != this_unit) {
                return Err(format!(
                    "`{text}` mixes users and rates; write every target as users (100) or as a rate (100/s)"
                ));
            }
            unit = Some(this_unit);
            stages.push((length, value));
        }
        if stages.iter().all(|(length, _)| length.is_zero()) {
            return Err(format!("`{text}` lasts no time"));
        }
        Ok(Stages { unit: unit.unwrap_or(StageUnit::Users), stages })
    }

    /// The run time: every stage's length.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|(length, _)| *length).sum()
    }

    /// The highest target.
    pub fn peak(&self) -> f64 {
        self.stages.iter().map(|(_, target)| *target).fold(0.0, f64::max)
    }

    /// The target `elapsed` into the run; `None` once the stages are over.
    pub fn at(&self, elapsed: Duration) -> Option<f64> {
        let mut start = Duration::ZERO;
        let mut from = 0.0;
        for &(length, to) in &self.stages {
            if elapsed < start + length {
                let progress = (elapsed - start).as_secs_f64() / length.as_secs_f64();
                return Some(from + (to - from) * progress);
            }
            start += length;
            from = to;
        }
        None
    }
}

impl std::fmt::Display for Stages {
    /// The stages as `--stages` takes them, e.g. `30s:100,1m:50/s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (at, (length, target)) in self.stages.iter().enumerate() {
            let separator = if at == 0 { "" } else { "," };
            let length = humantime::format_duration(*length).to_string().replace(' ', "");
            match self.unit {
                StageUnit::Users => write!(f, "{separator}{length}:{target}")?,
                StageUnit::Rate => write!(f, "{separator}{length}:{target}/s")?,
            }
        }
        Ok(())
    }
}

/// Parses a rate: `500` or `500/s` per second, `30/m` per minute, `2/h`
/// per hour. Zero only when `allow_zero` (a stage may ramp down to 0).
pub fn parse_rate(text: &str, allow_zero: bool) -> Result<f64, String> {
    let (count, per) = text.split_once('/').unwrap_or((text, "s"));
    let seconds = match per.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("`{text}`: `/{other}` is not /s, /m or /h")),
    };
    match count.trim().parse::<f64>() {
        Ok(count) if count.is_finite() && (count > 0.0 || (allow_zero && count == 0.0)) => {
            Ok(count / seconds)
        }
        _ => Err(format!("`{text}` is not a rate like 500, 500/s or 30/m")),
    }
}

/// When each iteration of the open model is due: iteration `k` (from 0)
/// starts when the iterations the rate has accumulated reach `k + ½`, so a
/// rate of R for T seconds starts R·T iterations, evenly spaced. The rate is piecewise linear: ramps for `--stages`, steps for a
/// shape (which appends a piece whenever its rate changes).
#[derive(Debug, Clone)]
pub struct RatePlan {
    pieces: Vec<Piece>,
    /// The first piece that may hold the next due iteration.
    cursor: usize,
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Seconds from the start of the run.
    start: f64,
    /// Iterations accumulated before `start`.
    count: f64,
    /// Rate at `start` and at the end.
    from: f64,
    to: f64,
    /// Seconds; infinite for the open-ended last piece of a fixed rate
    /// or a shape.
    length: f64,
}

impl Piece {
    /// How fast the rate changes, per second.
    fn slope(&self) -> f64 {
        if self.length.is_finite() && self.length > 0.0 {
            (self.to - self.from) / self.length
        } else {
            0.0
        }
    }

    fn count_after(&self, seconds: f64) -> f64 {
        self.count + self.from * seconds + self.slope() * seconds * seconds / 2.0
    }

    /// Seconds into the piece at which `k` iterations have accumulated.
    fn reaches(&self, k: f64) -> Option<f64> {
        let needed = k - self.count;
        if needed <= 0.0 {
            return Some(0.0);
        }
        let half_slope = self.slope() / 2.0;
        // Solves half_slope·t² + from·t = needed, in a form that stays exact
        // when half_slope is 0 or negative.
        let discriminant = self.from * self.from + 4.0 * half_slope * needed;
        if discriminant < 0.0 {
            return None;
        }
        let denominator = self.from + discriminant.sqrt();
        if denominator <= 0.0 {
            return None;
        }
        let seconds = 2.0 * needed / denominator;
        (seconds <= self.length).then_some(seconds)
    }
}

impl RatePlan {
    /// The same rate for as long as the run lasts.
    pub fn constant(rate: f64) -> RatePlan {
        RatePlan {
            pieces: vec![Piece {
                start: 0.0,
                count: 0.0,
                from: rate,
                to: rate,
                length: f64::INFINITY,
            }],
            cursor: 0,
        }
    }

    /// Linear ramps between rate targets, from 0.
    pub fn ramps(stages: &Stages) -> RatePlan {
        let mut plan = RatePlan { pieces: Vec::new(), cursor: 0 };
        let (mut start, mut count, mut from) = (0.0, 0.0, 0.0);
        for &(length, to) in &stages.stages {
            let piece = Piece { start, count, from, to, length: length.as_secs_f64() };
            count = piece.count_after(piece.length);
            start += piece.length;
            from = to;
            plan.pieces.push(piece);
        }
        plan
    }

    /// From `at` seconds on, run at `rate` (a shape's new answer).
    pub fn set_rate(&mut self, at: f64, rate: f64) {
        let count = match self.pieces.last_mut() {
            Some(last) if last.from == rate && !last.length.is_finite() => return,
            Some(last) => {
                let elapsed = (at - last.start).clamp(0.0, last.length);
                last.length = elapsed;
                last.to = last.from;
                last.count_after(elapsed)
            }
            None => 0.0,
        };
        self.pieces.push(Piece { start: at, count, from: rate, to: rate, length: f64::INFINITY });
    }

    /// When iteration `k` is due, in seconds from the start; `None` if the
    /// rate as known so far never gets there.
    pub fn due(&mut self, k: u64) -> Option<f64> {
        while let Some(piece) = self.pieces.get(self.cursor) {
            if let Some(seconds) = piece.reaches(k as f64 + 0.5) {
                return Some(piece.start + seconds);
            }
            if !piece.length.is_finite() {
                return None;
            }
            self.cursor += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_due(plan: &mut RatePlan, until: f64) -> u64 {
        let mut k = 0;
        while plan.due(k).is_some_and(|t| t < until) {
            k += 1;
        }
        k
    }

    #[test]
    fn rates_accept_units() {
        assert_eq!(parse_rate("500", false), Ok(500.0));
        assert_eq!(parse_rate("30/m", false), Ok(0.5));
        assert_eq!(parse_rate("7200/h", false), Ok(2.0));
        assert!(parse_rate("0", false).is_err());
        assert_eq!(parse_rate("0/s", true), Ok(0.0));
        assert!(parse_rate("5/d", false).is_err());
        assert!(parse_rate("fast", false).is_err());
    }

    #[test]
    fn stages_parse_and_ramp_linearly() {
        let stages = Stages::parse("30s:100,2m:100,30s:0").unwrap();
        assert_eq!(stages.unit, StageUnit::Users);
        assert_eq!(stages.total(), Duration::from_secs(180));
        assert_eq!(stages.peak(), 100.0);
        assert_eq!(stages.at(Duration::from_secs(15)), Some(50.0));
        assert_eq!(stages.at(Duration::from_secs(60)), Some(100.0));
        assert_eq!(stages.at(Duration::from_secs(165)), Some(50.0));
        assert_eq!(stages.at(Duration::from_secs(180)), None);
        assert_eq!(Stages::parse("10s:20/s").unwrap().unit, StageUnit::Rate);
        assert!(Stages::parse("10s:20/s,10s:5").unwrap_err().contains("mixes"));
        assert!(Stages::parse("10s").is_err());
        assert!(Stages::parse("0s:5").is_err());
    }

    #[test]
    fn a_constant_rate_is_due_evenly() {
        let mut plan = RatePlan::constant(300.0);
        assert_eq!(count_due(&mut plan, 6.0), 1800);
        assert!((plan.due(299).unwrap() - 299.5 / 300.0).abs() < 1e-9);
    }

    #[test]
    fn ramps_accumulate_the_area_under_the_rate() {
        // 0 → 100/s over 10 s, 100/s for 10 s, 100 → 0 over 10 s: 500 + 1000 + 500.
        let stages = Stages::parse("10s:100/s,10s:100/s,10s:0/s").unwrap();
        let mut plan = RatePlan::ramps(&stages);
        assert_eq!(count_due(&mut plan, 10.0), 500);
        assert_eq!(count_due(&mut RatePlan::ramps(&stages), 30.0), 2000);
        assert_eq!(RatePlan::ramps(&stages).due(2000), None);
    }

    #[test]
    fn a_rate_set_at_the_start_replaces_the_first() {
        let mut plan = RatePlan::constant(0.0);
        plan.set_rate(0.0, 50.0);
        assert_eq!(count_due(&mut plan, 2.0), 100);
    }

    #[test]
    fn a_shape_changes_the_rate_from_when_it_answers() {
        let mut plan = RatePlan::constant(10.0);
        plan.set_rate(2.0, 0.0);
        assert_eq!(count_due(&mut plan.clone(), 100.0), 20);
        plan.set_rate(5.0, 100.0);
        plan.set_rate(5.0, 100.0);
        assert!((plan.due(20).unwrap() - 5.005).abs() < 1e-9);
        assert_eq!(count_due(&mut plan, 6.0), 120);
    }
}
