//! `context`: the user's id, clock, sleep, random numbers, log and run
//! parameters; and where a guest's stdout and stderr go.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::AsyncWrite;
use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::bindings::context::{self, Level};
use crate::protocols::{Protocol, RunSetup, UserSetup};
use crate::run::RunLog;
use crate::sandbox::UserBudget;

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
    log: RunLog,
    budget: Arc<UserBudget>,
}

impl Protocol for ContextUser {
    type Config = ContextConfig;

    fn configure(run: &RunSetup<'_>) -> anyhow::Result<ContextConfig> {
        let guest = run.guest;
        Ok(ContextConfig {
            host: guest.host.as_ref().map(|url| url.as_str().to_owned()),
            params: guest.param_map(),
            seed: guest.seed.unwrap_or_else(|| fastrand::u64(..)),
            log_level: guest.loglevel.into(),
            started: Instant::now(),
        })
    }

    /// The user's context, its generator seeded from the run's seed and
    /// the user's id.
    fn for_user(config: &Arc<ContextConfig>, user: &UserSetup<'_>) -> Self {
        let seed = config.seed ^ user.user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ContextUser {
            config: Arc::clone(config),
            user_id: user.user_id,
            rng: fastrand::Rng::with_seed(seed),
            log: user.log.clone(),
            budget: Arc::clone(user.budget),
        }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        context::add_to_linker::<T, HasSelf<ContextUser>>(linker, get)
    }
}

impl ContextUser {
    /// The guest's stdout or stderr (`stream`): each line a log line of the
    /// user's, within the same budget as `context::log`.
    pub fn output(&self, stream: &'static str) -> GuestOutput {
        GuestOutput {
            prefix: format!("[{stream}] user {}: ", self.user_id),
            log: self.log.clone(),
            budget: Arc::clone(&self.budget),
        }
    }

    /// This user's random generator, for host-side choices (task pick, wait).
    pub fn rng(&mut self) -> &mut fastrand::Rng {
        &mut self.rng
    }
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
        if level as u8 >= self.config.log_level as u8 && self.budget.allow_log(message.len()) {
            let label = match level {
                Level::Debug => "debug",
                Level::Info => "info",
                Level::Warn => "warn",
                Level::Error => "error",
            };
            self.log.line(&format!("[{label}] user {}: {message}", self.user_id));
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

/// A guest's stdout or stderr: lines into the run's log, budgeted like
/// `context::log` (a Rust guest's panic message arrives this way).
#[derive(Clone)]
pub struct GuestOutput {
    prefix: String,
    log: RunLog,
    budget: Arc<UserBudget>,
}

/// The longest line kept whole; a longer one is cut into pieces this long.
const MAX_OUTPUT_LINE: usize = 4096;

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(OutputLines { output: self.clone(), pending: Vec::new() })
    }
}

/// Collects written bytes into lines.
struct OutputLines {
    output: GuestOutput,
    pending: Vec<u8>,
}

impl OutputLines {
    fn emit(&mut self, end: usize) {
        let line: Vec<u8> = self.pending.drain(..end).collect();
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if self.output.budget.allow_log(text.len()) {
            self.output.log.line(&format!("{}{text}", self.output.prefix));
        }
    }
}

impl AsyncWrite for OutputLines {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|byte| *byte == b'\n') {
            self.emit(end + 1);
        }
        while self.pending.len() >= MAX_OUTPUT_LINE {
            self.emit(MAX_OUTPUT_LINE);
        }
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.pending.is_empty() {
            let end = self.pending.len();
            self.emit(end);
        }
        Poll::Ready(Ok(()))
    }
}
