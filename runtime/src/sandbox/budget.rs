//! Budgets: how much of the host a guest may make it use on its behalf.
//! `--max-memory` caps a guest's own linear memory; these cap what the
//! host holds or does for it: names in the stats, live resources, bytes,
//! connections and log lines. Every host call that allocates for a guest
//! asks here first, and a breach is a failed call or a trap of that user
//! alone, with a message that names the flag.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::parse_size;
use crate::sync::lock;

/// The budgets of a run, each a flag of `wasmload run` and a run option
/// of the service.
#[derive(Debug, Clone, Args, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct Budgets {
    /// Distinct (type, name) request groups per run, and as many custom
    /// metric names and failure texts; past it, events are still counted,
    /// under one overflow row.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_names: u32,

    /// Live resources one user may hold of each kind (HTTP responses,
    /// timers, TCP connections, UDP sockets, WASI handles); past it the
    /// user traps.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_resources: u32,

    /// Bytes the host may hold for one user (bodies of responses it has
    /// not dropped, buffered socket data), e.g. 64MiB.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub max_host_memory: usize,

    /// Most bytes one host call may pass (a request's URL, headers and
    /// body together; one message), e.g. 16MiB; a larger call fails
    /// before anything is sent.
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    pub max_call_size: usize,

    /// Guest log bytes per user per second, e.g. 16KiB; the excess is
    /// dropped and counted.
    #[arg(long, default_value = "16KiB", value_parser = parse_size)]
    pub max_log_rate: usize,

    /// Connections one user may hold open (HTTP, gRPC, TCP, UDP).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_user_connections: u32,

    /// Connections the whole run may hold open [default: the open-files
    /// limit less 256].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_run_connections: Option<u32>,
}

/// A budget a call would exceed; the text names the flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error("the user holds {0} connections, all --max-user-connections allows")]
    UserConnections(u32),
    #[error("the run holds {0} connections, all --max-run-connections allows")]
    RunConnections(u32),
    #[error("the host would hold {wanted} bytes for the user, over --max-host-memory {limit}")]
    HostMemory { wanted: usize, limit: usize },
    #[error("the call passes {size} bytes, over --max-call-size {limit}")]
    CallSize { size: usize, limit: usize },
}

/// One run's shared counts.
#[derive(Debug)]
pub struct RunBudget {
    budgets: Budgets,
    max_run_connections: u64,
    connections: AtomicU64,
    /// Log bytes dropped by `--max-log-rate`, every user together.
    log_dropped: AtomicU64,
}

impl RunBudget {
    /// The counts of a run with these budgets, whose connections may use
    /// `open_files` descriptors when `--max-run-connections` is not given.
    pub fn new(budgets: Budgets, open_files: u64) -> Arc<RunBudget> {
        let max_run_connections = budgets
            .max_run_connections
            .map_or_else(|| open_files.saturating_sub(256).max(1), u64::from);
        Arc::new(RunBudget {
            budgets,
            max_run_connections,
            connections: AtomicU64::new(0),
            log_dropped: AtomicU64::new(0),
        })
    }

    /// The budgets the run was given.
    pub fn budgets(&self) -> &Budgets {
        &self.budgets
    }

    /// A new user's counts.
    pub fn for_user(self: &Arc<Self>) -> Arc<UserBudget> {
        Arc::new(UserBudget {
            run: Arc::clone(self),
            connections: AtomicU64::new(0),
            host_memory: AtomicUsize::new(0),
            log: Mutex::new(LogAllowance { second: Instant::now(), used: 0 }),
        })
    }

    /// Log bytes dropped so far.
    pub fn log_dropped(&self) -> u64 {
        self.log_dropped.load(Ordering::Relaxed)
    }

    /// Counts log bytes dropped (here or, for a collector, by a segment).
    pub fn drop_log(&self, bytes: u64) {
        self.log_dropped.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// One user's counts, shared by its protocol modules.
#[derive(Debug)]
pub struct UserBudget {
    run: Arc<RunBudget>,
    connections: AtomicU64,
    host_memory: AtomicUsize,
    log: Mutex<LogAllowance>,
}

#[derive(Debug)]
struct LogAllowance {
    second: Instant,
    used: usize,
}

/// Adds 1 to `count` unless it is at `limit` already.
fn take_one(count: &AtomicU64, limit: u64) -> Result<(), u64> {
    count
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1))
        .map(drop)
}

impl UserBudget {
    /// The run's budgets.
    pub fn budgets(&self) -> &Budgets {
        &self.run.budgets
    }

    /// Takes one connection of the user's and of the run's; it is given
    /// back when the permit drops, as the connection closes.
    pub fn connect(self: &Arc<Self>) -> Result<ConnectionPermit, Exceeded> {
        let user_limit = self.budgets().max_user_connections;
        take_one(&self.connections, u64::from(user_limit))
            .map_err(|_| Exceeded::UserConnections(user_limit))?;
        if take_one(&self.run.connections, self.run.max_run_connections).is_err() {
            self.connections.fetch_sub(1, Ordering::AcqRel);
            let limit = u32::try_from(self.run.max_run_connections).unwrap_or(u32::MAX);
            return Err(Exceeded::RunConnections(limit));
        }
        Ok(ConnectionPermit { user: Arc::clone(self) })
    }

    /// Holds `bytes` for the user until the returned value drops.
    pub fn hold(self: &Arc<Self>, bytes: usize) -> Result<HostBytes, Exceeded> {
        let mut held = HostBytes { user: Arc::clone(self), bytes: 0 };
        held.resize(bytes)?;
        Ok(held)
    }

    /// Refuses a call that passes more than `--max-call-size` bytes.
    pub fn check_call(&self, size: usize) -> Result<(), Exceeded> {
        let limit = self.budgets().max_call_size;
        if size > limit {
            return Err(Exceeded::CallSize { size, limit });
        }
        Ok(())
    }

    /// Whether a log line of `bytes` fits in this second's allowance; one
    /// that does not is counted as dropped.
    pub fn allow_log(&self, bytes: usize) -> bool {
        let mut allowance = lock(&self.log);
        if allowance.second.elapsed().as_secs() >= 1 {
            *allowance = LogAllowance { second: Instant::now(), used: 0 };
        }
        if allowance.used + bytes > self.budgets().max_log_rate {
            self.run.drop_log(bytes as u64);
            return false;
        }
        allowance.used += bytes;
        true
    }
}

/// One open connection's share of the budgets.
#[derive(Debug)]
pub struct ConnectionPermit {
    user: Arc<UserBudget>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.user.connections.fetch_sub(1, Ordering::AcqRel);
        self.user.run.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Bytes the host holds for a user, given back when dropped.
#[derive(Debug)]
pub struct HostBytes {
    user: Arc<UserBudget>,
    bytes: usize,
}

impl HostBytes {
    /// Holds `bytes` in all instead, if the user's budget allows.
    pub fn resize(&mut self, bytes: usize) -> Result<(), Exceeded> {
        let limit = self.user.budgets().max_host_memory;
        let before = self.bytes;
        self.user
            .host_memory
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                let wanted = held - before + bytes;
                (wanted <= limit).then_some(wanted)
            })
            .map_err(|held| Exceeded::HostMemory { wanted: held - before + bytes, limit })?;
        self.bytes = bytes;
        Ok(())
    }
}

impl Drop for HostBytes {
    fn drop(&mut self) {
        self.user.host_memory.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    fn budgets(flags: &[&str]) -> Budgets {
        let command = Budgets::augment_args(clap::Command::new("b").no_binary_name(true));
        Budgets::from_arg_matches(&command.get_matches_from(flags)).unwrap()
    }

    #[test]
    fn connections_count_against_the_user_and_the_run() {
        let run =
            RunBudget::new(budgets(&["--max-user-connections=2", "--max-run-connections=3"]), 0);
        let (first, second) = (run.for_user(), run.for_user());
        let a = first.connect().unwrap();
        let _b = first.connect().unwrap();
        assert_eq!(first.connect().unwrap_err(), Exceeded::UserConnections(2));
        let _c = second.connect().unwrap();
        assert_eq!(second.connect().unwrap_err(), Exceeded::RunConnections(3));
        drop(a);
        assert!(second.connect().is_ok(), "a closed connection is given back");
    }

    #[test]
    fn held_bytes_are_given_back_when_dropped() {
        let run = RunBudget::new(budgets(&["--max-host-memory=100"]), 1000);
        let user = run.for_user();
        let mut held = user.hold(60).unwrap();
        assert_eq!(user.hold(50).unwrap_err(), Exceeded::HostMemory { wanted: 110, limit: 100 });
        held.resize(10).unwrap();
        let other = user.hold(90).unwrap();
        assert!(held.resize(11).is_err());
        drop(other);
        drop(held);
        assert!(user.hold(100).is_ok());
    }

    #[test]
    fn logs_past_the_rate_are_dropped_and_counted() {
        let run = RunBudget::new(budgets(&["--max-log-rate=10"]), 1000);
        let user = run.for_user();
        assert!(user.allow_log(6));
        assert!(!user.allow_log(6));
        assert!(user.allow_log(4));
        assert_eq!(run.log_dropped(), 6);
    }

    #[test]
    fn calls_over_the_size_fail() {
        let run = RunBudget::new(budgets(&["--max-call-size=1KiB"]), 1000);
        let user = run.for_user();
        assert!(user.check_call(1024).is_ok());
        assert_eq!(
            user.check_call(1025).unwrap_err(),
            Exceeded::CallSize { size: 1025, limit: 1024 }
        );
    }
}
