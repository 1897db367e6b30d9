//! Request events and their aggregation.
//!
//! Protocol modules call [`Recorder::record`] once per request. Each worker
//! thread writes into its own [`Shard`], so recording never waits on another
//! thread; readers merge the shards when they need a view of the run.

mod history;
mod shard;
mod summary;

pub use history::{History, HistoryRow, PERCENTILES};
pub use shard::{Entry, Shard};
pub use summary::{decode_histogram, MetricRow, RequestRow, ResponseTimes, Summary};

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::sync::lock;
use std::time::Duration;

/// One finished request, as a protocol module reports it.
#[derive(Debug, Clone, Copy)]
pub struct RequestEvent<'a> {
    /// The type column: an HTTP method, `grpc`, or a guest-chosen kind.
    pub kind: &'a str,
    /// The name the request is grouped under.
    pub name: &'a str,
    pub response_time: Duration,
    pub response_length: u64,
    /// `Some` makes the event a failure, grouped by this text.
    pub error: Option<&'a str>,
}

/// Records events into the calling thread's shard. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    registry: Arc<Registry>,
    /// A user's lateness in µs: how far behind its intended start the
    /// current iteration began (open model only).
    lateness: Option<Arc<AtomicU64>>,
}

struct Registry {
    id: u64,
    /// Whether response times are also measured from intended starts.
    corrected: AtomicBool,
    shards: Mutex<Vec<Arc<Mutex<Shard>>>>,
}

thread_local! {
    /// This thread's shard for each live registry (normally exactly one).
    static LOCAL_SHARDS: RefCell<Vec<(u64, Arc<Mutex<Shard>>)>> = const { RefCell::new(Vec::new()) };
}

static NEXT_REGISTRY_ID: AtomicU64 = AtomicU64::new(0);

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("registry", &self.registry.id).finish_non_exhaustive()
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// A recorder with no events yet, timing requests from their send.
    pub fn new() -> Self {
        Recorder {
            registry: Arc::new(Registry {
                id: NEXT_REGISTRY_ID.fetch_add(1, Ordering::Relaxed),
                corrected: AtomicBool::new(false),
                shards: Mutex::new(Vec::new()),
            }),
            lateness: None,
        }
    }

    /// From now on, users made are timed from their iterations' intended
    /// starts as well as from the send (the open model).
    pub fn correct_for_omission(&self) {
        self.registry.corrected.store(true, Ordering::Relaxed);
    }

    fn corrects(&self) -> bool {
        self.registry.corrected.load(Ordering::Relaxed)
    }

    /// A handle for one user, whose clones share its lateness.
    pub fn for_user(&self) -> Recorder {
        Recorder {
            registry: Arc::clone(&self.registry),
            lateness: self.corrects().then(Arc::default),
        }
    }

    /// Sets how late this user's current iteration started; a no-op unless
    /// the run corrects for coordinated omission.
    pub fn set_lateness(&self, lateness: Duration) {
        if let Some(cell) = &self.lateness {
            let micros = u64::try_from(lateness.as_micros()).unwrap_or(u64::MAX);
            cell.store(micros, Ordering::Relaxed);
        }
    }

    /// Records one request event.
    pub fn record(&self, event: &RequestEvent<'_>) {
        let lateness = match (&self.lateness, self.corrects()) {
            (Some(cell), _) => Some(Duration::from_micros(cell.load(Ordering::Relaxed))),
            // Not a user's (e.g. a shape's): on time by definition.
            (None, true) => Some(Duration::ZERO),
            (None, false) => None,
        };
        self.with_local_shard(|shard| shard.record(event, lateness));
    }

    /// Records a task that returned an error or trapped.
    pub fn record_task_error(&self, class: &str, task: &str, error: &str) {
        self.with_local_shard(|shard| shard.record_task_error(class, task, error));
    }

    /// Adds to a guest's custom counter.
    pub fn add_counter(&self, name: &str, value: f64) {
        self.with_local_shard(|shard| shard.add_counter(name, value));
    }

    /// Records a sample of a guest's custom trend.
    pub fn add_trend(&self, name: &str, value: f64) {
        self.with_local_shard(|shard| shard.add_trend(name, value));
    }

    /// Requests and failures so far, without merging histograms.
    pub fn totals(&self) -> (u64, u64) {
        self.shards().iter().fold((0, 0), |(requests, failures), shard| {
            let (r, f) = lock(shard).totals();
            (requests + r, failures + f)
        })
    }

    /// Every event so far, merged into one shard.
    pub fn snapshot(&self) -> Shard {
        let mut merged = Shard::default();
        for shard in self.shards().iter() {
            merged.merge(&lock(shard));
        }
        merged
    }

    fn shards(&self) -> MutexGuard<'_, Vec<Arc<Mutex<Shard>>>> {
        lock(&self.registry.shards)
    }

    fn with_local_shard(&self, update: impl FnOnce(&mut Shard)) {
        LOCAL_SHARDS.with(|local| {
            let mut local = local.borrow_mut();
            let id = self.registry.id;
            let shard = match local.iter().find(|(registry, _)| *registry == id) {
                Some((_, shard)) => Arc::clone(shard),
                None => {
                    let shard = Arc::new(Mutex::new(Shard::default()));
                    self.shards().push(Arc::clone(&shard));
                    local.push((id, Arc::clone(&shard)));
                    shard
                }
            };
            update(&mut lock(&shard));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<'a>(name: &'a str, ms: u64, error: Option<&'a str>) -> RequestEvent<'a> {
        RequestEvent {
            kind: "GET",
            name,
            response_time: Duration::from_millis(ms),
            response_length: 10,
            error,
        }
    }

    #[test]
    fn events_from_many_threads_all_arrive() {
        let recorder = Recorder::new();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let recorder = recorder.clone();
                scope.spawn(move || {
                    for i in 0..250 {
                        let error = (i % 50 == 0).then_some("boom");
                        recorder.record(&event("/a", i % 7, error));
                    }
                });
            }
        });
        assert_eq!(recorder.totals(), (1000, 20));
        let snapshot = recorder.snapshot();
        let entry = snapshot.entry("GET", "/a").expect("entry for /a");
        assert_eq!(entry.histogram().len(), 1000);
        assert_eq!(entry.failures(), 20);
    }

    #[test]
    fn response_times_keep_their_size_across_the_range() {
        let recorder = Recorder::new();
        for ms in [1, 10, 100, 1_000, 10_000, 100_000] {
            recorder.record(&event("/t", ms, None));
        }
        let snapshot = recorder.snapshot();
        let histogram = snapshot.entry("GET", "/t").expect("entry").histogram();
        assert_eq!(histogram.min(), histogram.lowest_equivalent(1_000));
        assert!(histogram.max() >= 100_000_000, "max {} µs", histogram.max());
        assert!(histogram.equivalent(histogram.value_at_quantile(0.5), 100_000));
    }

    #[test]
    fn separate_recorders_do_not_share_events() {
        let first = Recorder::new();
        let second = Recorder::new();
        first.record(&event("/x", 1, None));
        assert_eq!(first.totals(), (1, 0));
        assert_eq!(second.totals(), (0, 0));
    }
}
