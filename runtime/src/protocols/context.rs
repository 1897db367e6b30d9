//! `context`: the user's id, clock, sleep, random numbers, log and run
//! parameters.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::context::{self, Level};

/// Run-wide settings shared by every user.
pub struct ContextConfig {
    /// `--host`, as given.
    pub host: Option<String>,
    /// `-e KEY=VALUE` parameters.
    pub params: HashMap<String, String>,
    /// Base seed; each user's generator is seeded from it and the user id.
    pub seed: u64,
    /// Lowest level that is written to the log.
    pub log_level: Level,
    /// Zero point of `now-us`.
    pub started: Instant,
}

/// One user's context.
pub struct ContextUser {
    config: Arc<ContextConfig>,
    user_id: u64,
    rng: fastrand::Rng,
}

impl ContextUser {
    /// The context of user `user_id`.
    pub fn new(config: Arc<ContextConfig>, user_id: u64) -> Self {
        let rng =
            fastrand::Rng::with_seed(config.seed ^ user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        ContextUser { config, user_id, rng }
    }

    /// This user's random generator, for host-side choices (task pick, wait).
    pub fn rng(&mut self) -> &mut fastrand::Rng {
        &mut self.rng
    }
}

/// Adds the `context` interface to `linker`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut ContextUser,
) -> wasmtime::Result<()> {
    context::add_to_linker::<T, HasSelf<ContextUser>>(linker, get)
}

impl context::Host for ContextUser {
    fn user_id(&mut self) -> wasmtime::Result<u64> {
        Ok(self.user_id)
    }

    async fn sleep(&mut self, duration_us: u64) -> wasmtime::Result<()> {
        // Tokio's timers round up to the next millisecond: a zero sleep
        // would cost a whole one. It still gives the other users a turn.
        match duration_us {
            0 => tokio::task::yield_now().await,
            _ => tokio::time::sleep(Duration::from_micros(duration_us)).await,
        }
        Ok(())
    }

    fn now_us(&mut self) -> wasmtime::Result<u64> {
        Ok(u64::try_from(self.config.started.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    fn random(&mut self) -> wasmtime::Result<u64> {
        Ok(self.rng.u64(..))
    }

    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if level as u8 >= self.config.log_level as u8 {
            let label = match level {
                Level::Debug => "debug",
                Level::Info => "info",
                Level::Warn => "warn",
                Level::Error => "error",
            };
            eprintln!("[{label}] user {}: {message}", self.user_id);
        }
        Ok(())
    }

    fn param(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.config.params.get(&key).cloned())
    }

    fn host(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.config.host.clone())
    }
}
