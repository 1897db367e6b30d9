//! Where a run's own messages go: a user's first trap of each kind, the
//! load shape's complaints, guest log lines. `wasmload run` prints them on
//! stderr; the service keeps each run's apart, bounded, so no tenant's
//! lines reach another's or fill the server's.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::sync::lock;

/// A run's message sink. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RunLog(Sink);

#[derive(Clone, Debug)]
enum Sink {
    Stderr,
    Kept(Arc<Mutex<Kept>>),
}

/// The newest lines of a run, up to a byte budget, and how many older ones
/// made room for them.
#[derive(Debug, Default)]
struct Kept {
    lines: VecDeque<String>,
    bytes: usize,
    limit: usize,
    dropped: u64,
}

impl RunLog {
    /// Lines go to stderr as they come.
    pub fn stderr() -> Self {
        RunLog(Sink::Stderr)
    }

    /// Keeps the newest lines, at most `limit` bytes of them.
    pub fn kept(limit: usize) -> Self {
        RunLog(Sink::Kept(Arc::new(Mutex::new(Kept { limit, ..Kept::default() }))))
    }

    /// Writes one line.
    pub fn line(&self, text: &str) {
        match &self.0 {
            Sink::Stderr => eprintln!("{text}"),
            Sink::Kept(kept) => {
                let mut kept = lock(kept);
                let line: String = text.chars().take(kept.limit).collect();
                kept.bytes += line.len();
                kept.lines.push_back(line);
                while kept.bytes > kept.limit {
                    let Some(oldest) = kept.lines.pop_front() else { break };
                    kept.bytes -= oldest.len();
                    kept.dropped += 1;
                }
            }
        }
    }

    /// The kept lines, oldest first, after one saying how many older lines
    /// were dropped, if any; nothing for stderr.
    pub fn lines(&self) -> Vec<String> {
        let Sink::Kept(kept) = &self.0 else {
            return Vec::new();
        };
        let kept = lock(kept);
        let dropped = (kept.dropped > 0).then(|| {
            format!(
                "({} earlier lines dropped: the log keeps its newest {} bytes)",
                kept.dropped, kept.limit
            )
        });
        dropped.into_iter().chain(kept.lines.iter().cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_log_keeps_its_newest_lines_within_its_budget() {
        let log = RunLog::kept(10);
        for line in ["aaaa", "bbbb", "cccc"] {
            log.line(line);
        }
        assert_eq!(
            log.lines(),
            ["(1 earlier lines dropped: the log keeps its newest 10 bytes)", "bbbb", "cccc"]
        );
        log.line(&"x".repeat(50));
        assert_eq!(log.lines().last().map(String::len), Some(10));
    }
}
