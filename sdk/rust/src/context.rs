//! The user's view of the run: id, time, randomness, log, parameters.

use std::time::Duration;

use crate::bindings::wasmload::user::context as host;
pub use host::Level;

/// This user's number, 0-based and unique within the run.
pub fn user_id() -> u64 {
    host::user_id()
}

/// Pauses this user; the host thread serves other users meanwhile.
pub fn sleep(duration: Duration) {
    host::sleep(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX));
}

/// Monotonic time since the run started.
pub fn now() -> Duration {
    Duration::from_micros(host::now_us())
}

/// A random number from this user's seeded generator (`--seed`).
pub fn random() -> u64 {
    host::random()
}

/// A random number in `low..high` (`low` when the range is empty).
pub fn random_range(low: u64, high: u64) -> u64 {
    if high <= low {
        return low;
    }
    low + random() % (high - low)
}

/// A run parameter given with `-e KEY=VALUE`.
pub fn param(key: &str) -> Option<String> {
    host::param(key)
}

/// A run parameter, or `default` when it is not given.
pub fn param_or(key: &str, default: &str) -> String {
    param(key).unwrap_or_else(|| default.to_owned())
}

/// Writes a line to the run's log, tagged with this user.
pub fn log(level: Level, message: &str) {
    host::log(level, message);
}

/// Logs at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// The run's `--host`, as given (e.g. `http://127.0.0.1:8080/`).
pub fn host() -> Option<String> {
    host::host()
}

/// The `host:port` of `--host`, for socket protocols
/// (`--host tcp://127.0.0.1:6379` gives `127.0.0.1:6379`).
pub fn host_address() -> Option<String> {
    let host = host()?;
    let authority = host.split_once("://").map_or(host.as_str(), |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or(authority);
    (!authority.is_empty()).then(|| authority.to_owned())
}
