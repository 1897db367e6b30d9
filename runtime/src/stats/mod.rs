//! Request events and their aggregation.
//!
//! Protocol modules call [`Recorder::record`] once per request. Each worker
//! thread writes into its own [`Shard`], so recording never waits on another
//! thread; readers merge the shards when they need a view of the run.

mod history;
mod names;
mod shard;
mod summary;

pub use history::{History, HistoryRow, PERCENTILES};
pub use names::OVERFLOW_KIND;
pub use shard::{rank_percentile_ms, rank_percentiles_ms, Entry, Shard};
pub use summary::{
    decode_histogram, ErrorRow, LostSegment, MetricRow, RequestRow, ResponseTimes, RunInfo, Seen,
    Summary, TaskErrorRow, Totals,
};

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::sync::lock;
use names::Names;
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
    /// Every distinct name any shard has, up to `--max-names`.
    names: Names,
}

/// One thread's shard of a registry, and whether that registry lives.
type LocalShard = (u64, std::sync::Weak<Registry>, Arc<Mutex<Shard>>);

thread_local! {
    /// This thread's shard for each registry it has recorded into: one
    /// per run that used the thread. A finished run's shard is let go
    /// when the thread next records for a new run.
    static LOCAL_SHARDS: RefCell<Vec<LocalShard>> = const { RefCell::new(Vec::new()) };
}

static NEXT_REGISTRY_ID: AtomicU64 = AtomicU64::new(0);

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("registry", &self.registry.id).finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder with no events yet, timing requests from their send,
    /// keeping at most `max_names` distinct names of each kind (request
    /// groups, failure texts, task errors, custom metrics); events past
    /// that are counted under overflow names.
    pub fn new(max_names: u32) -> Self {
        Recorder {
            registry: Arc::new(Registry {
                id: NEXT_REGISTRY_ID.fetch_add(1, Ordering::Relaxed),
                corrected: AtomicBool::new(false),
                shards: Mutex::new(Vec::new()),
                names: Names::new(max_names),
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
        self.with_local_shard(|shard, names| shard.record(event, lateness, names));
    }

    /// Records a task that returned an error or trapped.
    pub fn record_task_error(&self, class: &str, task: &str, error: &str) {
        self.with_local_shard(|shard, names| shard.record_task_error(class, task, error, names));
    }

    /// Adds to a guest's custom counter.
    pub fn add_counter(&self, name: &str, value: f64) {
        self.with_local_shard(|shard, names| {
            let name = names.metric(name, |name| shard.has_metric(name));
            shard.add_counter(&name, value)
        });
    }

    /// Records a sample of a guest's custom trend.
    pub fn add_trend(&self, name: &str, value: f64) {
        self.with_local_shard(|shard, names| {
            let name = names.metric(name, |name| shard.has_metric(name));
            shard.add_trend(&name, value)
        });
    }

    /// Adds events recorded elsewhere (another process's), within this
    /// recorder's names budget.
    pub fn absorb(&self, events: &Shard) {
        self.with_local_shard(|shard, names| shard.absorb(events, names));
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

    fn with_local_shard(&self, update: impl FnOnce(&mut Shard, &Names)) {
        LOCAL_SHARDS.with(|local| {
            let mut local = local.borrow_mut();
            let id = self.registry.id;
            let shard = match local.iter().find(|(registry, _, _)| *registry == id) {
                Some((_, _, shard)) => Arc::clone(shard),
                None => {
                    local.retain(|(_, registry, _)| registry.strong_count() > 0);
                    let shard = Arc::new(Mutex::new(Shard::default()));
                    self.shards().push(Arc::clone(&shard));
                    local.push((id, Arc::downgrade(&self.registry), Arc::clone(&shard)));
                    shard
                }
            };
            update(&mut lock(&shard), &self.registry.names);
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
        let recorder = Recorder::new(1000);
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
        let recorder = Recorder::new(1000);
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
    fn percentiles_in_one_pass_are_those_taken_one_at_a_time() {
        let mut histogram = shard::new_histogram();
        assert_eq!(rank_percentiles_ms(&histogram, &PERCENTILES), vec![0.0; PERCENTILES.len()]);
        // Uneven: many fast answers, a long tail, repeats.
        for i in 1..=5_000u64 {
            histogram.record((i * i) % 20_000_000 + 100).expect("in range");
        }
        histogram.record_n(1_500, 3_000).expect("in range");
        // A walk per quantile, as before the one-pass version.
        let walk = |quantile: f64| {
            let count = histogram.len();
            let rank = ((count as f64 * quantile).floor() as u64 + 1).min(count);
            let mut seen = 0;
            let value = histogram.iter_recorded().find(|value| {
                seen += value.count_at_value();
                seen >= rank
            });
            value.map_or(histogram.max() as f64 / 1000.0, |value| {
                histogram.median_equivalent(value.value_iterated_to()) as f64 / 1000.0
            })
        };
        let one_at_a_time: Vec<f64> = PERCENTILES.iter().map(|q| walk(*q)).collect();
        assert_eq!(rank_percentile_ms(&histogram, 0.9), walk(0.9));
        assert_eq!(rank_percentiles_ms(&histogram, &PERCENTILES), one_at_a_time);
        assert!(one_at_a_time.windows(2).all(|pair| pair[0] <= pair[1]), "{one_at_a_time:?}");
    }

    #[test]
    fn separate_recorders_do_not_share_events() {
        let first = Recorder::new(1000);
        let second = Recorder::new(1000);
        first.record(&event("/x", 1, None));
        assert_eq!(first.totals(), (1, 0));
        assert_eq!(second.totals(), (0, 0));
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_past_the_budget_are_counted_under_one_overflow_row() {
        let recorder = Recorder::new(3);
        for i in 0..10 {
            let name = format!("/item/{i}");
            let error = format!("boom {i}");
            recorder.record(&RequestEvent {
                kind: "GET",
                name: &name,
                response_time: Duration::from_millis(1),
                response_length: 0,
                error: Some(&error),
            });
            recorder.add_counter(&format!("counter {i}"), 1.0);
        }
        let snapshot = recorder.snapshot();
        assert_eq!(snapshot.totals(), (10, 10), "every event is still counted");
        assert_eq!(snapshot.entries().count(), 4, "three names and the overflow row");
        let overflow = snapshot.entry(OVERFLOW_KIND, "(names past --max-names 3)").unwrap();
        assert_eq!(overflow.histogram().len(), 7);
        assert_eq!(snapshot.errors().count(), 4);
        assert_eq!(snapshot.errors().map(|(_, seen)| seen.count).sum::<u64>(), 10);
        let counters: Vec<_> = snapshot.counters().collect();
        assert_eq!(counters.len(), 4);
        assert!(counters.contains(&("(metrics past --max-names 3)", 7.0)), "{counters:?}");
    }

    #[test]
    fn long_names_are_cut() {
        let recorder = Recorder::new(10);
        let long = "x".repeat(10_000);
        recorder.record(&RequestEvent {
            kind: &long,
            name: &long,
            response_time: Duration::from_millis(1),
            response_length: 0,
            error: Some(&long),
        });
        let snapshot = recorder.snapshot();
        let (kind, name, _) = snapshot.entries().next().unwrap();
        assert!(kind.len() <= 260 && name.len() <= 260, "{} {}", kind.len(), name.len());
        let (key, _) = snapshot.errors().next().unwrap();
        assert!(key.2.len() <= 1030, "{}", key.2.len());
    }
}
