//! Request events for work the host cannot see, such as a custom protocol
//! spoken over a raw socket.

use std::time::Duration;

use crate::bindings::wasmload::user::events as host;

/// Records one request event; `error: Some(..)` makes it a failure.
pub fn fire(kind: &str, name: &str, response_time: Duration, length: u64, error: Option<&str>) {
    host::fire(&host::RequestEvent {
        kind: kind.to_owned(),
        name: name.to_owned(),
        response_time_us: u64::try_from(response_time.as_micros()).unwrap_or(u64::MAX),
        response_length: length,
        error: error.map(str::to_owned),
    });
}

/// Times a block of work as one event. Dropped without a verdict, it
/// records a success of length 0.
pub struct Timer(host::Timer);

impl Timer {
    /// Starts timing an event of type `kind` grouped under `name`.
    pub fn start(kind: &str, name: &str) -> Self {
        Timer(host::Timer::new(kind, name))
    }

    /// Records a success with this response length.
    pub fn success(self, length: u64) {
        self.0.success(length);
    }

    /// Records a failure with this reason.
    pub fn failure(self, reason: &str) {
        self.0.failure(reason);
    }
}

/// Runs `work` as one timed event: `Ok(length)` records a success, `Err` a
/// failure with the error's text, which is then returned.
pub fn time<E: std::fmt::Display>(
    kind: &str,
    name: &str,
    work: impl FnOnce() -> Result<u64, E>,
) -> Result<u64, E> {
    let timer = Timer::start(kind, name);
    match work() {
        Ok(length) => {
            timer.success(length);
            Ok(length)
        }
        Err(error) => {
            timer.failure(&error.to_string());
            Err(error)
        }
    }
}

/// Adds `value` to the custom counter `name` (shown in every output).
pub fn counter(name: &str, value: f64) {
    host::add_counter(name, value);
}

/// Records one sample of the custom trend `name` (count, min, average,
/// percentiles and max in every output; 3 significant digits kept,
/// negatives count as 0).
pub fn trend(name: &str, value: f64) {
    host::add_trend(name, value);
}
