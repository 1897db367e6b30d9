//! One thread's share of the run's events.

use std::collections::HashMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::names::Names;
use super::RequestEvent;

/// Response times of one (type, name) group in microseconds, plus counters.
#[derive(Clone)]
pub struct Entry {
    /// The response times reports show: in the open model, measured from
    /// each iteration's intended start (corrected for coordinated omission).
    histogram: Histogram<u64>,
    /// In the open model, the same requests measured from the actual send.
    uncorrected: Option<Histogram<u64>>,
    failures: u64,
    total_length: u64,
}

impl Default for Entry {
    fn default() -> Self {
        Entry { histogram: new_histogram(), uncorrected: None, failures: 0, total_length: 0 }
    }
}

impl Entry {
    /// An entry with these response times (µs), failures and total length.
    pub(super) fn from_parts(
        histogram: Histogram<u64>,
        uncorrected: Option<Histogram<u64>>,
        failures: u64,
        total_length: u64,
    ) -> Entry {
        Entry { histogram, uncorrected, failures, total_length }
    }

    /// Response times in microseconds (corrected in the open model); its
    /// length is the request count.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Open model only: response times from the actual send.
    pub fn uncorrected(&self) -> Option<&Histogram<u64>> {
        self.uncorrected.as_ref()
    }

    /// How many of the requests failed.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Sum of response lengths in bytes.
    pub fn total_length(&self) -> u64 {
        self.total_length
    }

    /// Adds another group's requests to this one. If either side was
    /// corrected, the other's own times stand in for its uncorrected ones.
    pub fn merge(&mut self, other: &Entry) {
        if self.uncorrected.is_some() || other.uncorrected.is_some() {
            let mine = self.uncorrected.get_or_insert_with(|| self.histogram.clone());
            // Both histograms auto-resize, so adding never fails on range.
            let _ = mine.add(other.uncorrected.as_ref().unwrap_or(&other.histogram));
        }
        let _ = self.histogram.add(&other.histogram);
        self.failures += other.failures;
        self.total_length += other.total_length;
    }

    /// What this group gained since `earlier`, an earlier state of it;
    /// `None` when nothing.
    fn since(&self, earlier: &Entry) -> Option<Entry> {
        if self.histogram.len() == earlier.histogram.len() && self.failures == earlier.failures {
            return None;
        }
        let gained = |now: &Histogram<u64>, before: &Histogram<u64>| {
            let mut gained = now.clone();
            // `before` is an earlier state of `now`, so it is contained in it.
            let _ = gained.subtract(before);
            gained
        };
        let uncorrected = self.uncorrected.as_ref().map(|now| match &earlier.uncorrected {
            Some(before) => gained(now, before),
            None => now.clone(),
        });
        Some(Entry {
            histogram: gained(&self.histogram, &earlier.histogram),
            uncorrected,
            failures: self.failures.saturating_sub(earlier.failures),
            total_length: self.total_length.saturating_sub(earlier.total_length),
        })
    }

    fn record(&mut self, response_time: Duration, lateness: Option<Duration>) {
        match lateness {
            Some(lateness) => {
                record_micros(&mut self.histogram, response_time + lateness);
                record_micros(self.uncorrected.get_or_insert_with(new_histogram), response_time);
            }
            None => record_micros(&mut self.histogram, response_time),
        }
    }
}

/// Records a duration in whole microseconds (at least 1).
fn record_micros(histogram: &mut Histogram<u64>, duration: Duration) {
    record_value(histogram, u64::try_from(duration.as_micros()).unwrap_or(u64::MAX).max(1));
}

fn record_value(histogram: &mut Histogram<u64>, value: u64) {
    // `record` grows the histogram as needed; `saturating_record` would
    // clamp to its current range instead.
    if histogram.record(value).is_err() {
        histogram.saturating_record(value);
    }
}

/// A histogram for microsecond response times: 3 significant figures,
/// growing as larger values arrive.
pub fn new_histogram() -> Histogram<u64> {
    let mut histogram = Histogram::new(3).expect("3 significant figures is a valid precision");
    histogram.auto(true);
    histogram
}

/// The response time, in ms, at `quantile` as Locust picks it: the value of
/// rank ⌊N·q⌋+1 (at most N) of the N recorded, here the middle of its
/// bucket; 0 with none recorded.
pub fn rank_percentile_ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    rank_percentiles_ms(histogram, &[quantile])[0]
}

/// [`rank_percentile_ms`] at each of `quantiles` (ascending), in one pass
/// over the histogram: every process samples its stats each second, and a
/// pass per quantile walked a long run's thousands of buckets 23 times.
pub fn rank_percentiles_ms(histogram: &Histogram<u64>, quantiles: &[f64]) -> Vec<f64> {
    debug_assert!(quantiles.is_sorted(), "quantiles must ascend: {quantiles:?}");
    let count = histogram.len();
    if count == 0 {
        return vec![0.0; quantiles.len()];
    }
    let rank = |quantile: f64| ((count as f64 * quantile).floor() as u64 + 1).min(count);
    let mut found = Vec::with_capacity(quantiles.len());
    let mut seen = 0;
    for value in histogram.iter_recorded() {
        seen += value.count_at_value();
        while found.len() < quantiles.len() && seen >= rank(quantiles[found.len()]) {
            found.push(histogram.median_equivalent(value.value_iterated_to()) as f64 / 1000.0);
        }
        if found.len() == quantiles.len() {
            return found;
        }
    }
    found.resize(quantiles.len(), histogram.max() as f64 / 1000.0);
    found
}

/// Now, in Unix seconds.
pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// A counted group: (type, name, error) for failures, like Locust's, and
/// (class, task, error) for task errors.
pub type GroupKey = (String, String, String);

/// How often a group occurred, and when first and last (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Occurrences {
    pub count: u64,
    pub first: u64,
    pub last: u64,
}

impl Occurrences {
    /// One occurrence, now.
    fn now() -> Occurrences {
        let now = unix_now();
        Occurrences { count: 1, first: now, last: now }
    }

    /// Adds `other`'s occurrences (seen unknown when 0).
    fn add(&mut self, other: Occurrences) {
        let earliest = [self.first, other.first].into_iter().filter(|at| *at > 0).min();
        self.first = earliest.unwrap_or(0);
        self.last = self.last.max(other.last);
        self.count += other.count;
    }
}

/// Adds `occurrences` of `key` to `groups`.
fn add_group(groups: &mut HashMap<GroupKey, Occurrences>, key: GroupKey, occurrences: Occurrences) {
    match groups.get_mut(&key) {
        Some(known) => known.add(occurrences),
        None => {
            groups.insert(key, occurrences);
        }
    }
}

/// Events recorded by one thread (or, after merging, by all of them).
#[derive(Default, Clone)]
pub struct Shard {
    /// type -> name -> entry; two levels so lookups borrow `&str`.
    requests: HashMap<String, HashMap<String, Entry>>,
    errors: HashMap<GroupKey, Occurrences>,
    task_errors: HashMap<GroupKey, Occurrences>,
    /// Custom counters from guests.
    counters: HashMap<String, f64>,
    /// Custom trends from guests, in thousandths.
    trends: HashMap<String, Histogram<u64>>,
}

impl Shard {
    /// Records one event; a (type, name) or failure text this shard has
    /// not seen is admitted by the run's `names` first.
    pub(super) fn record(
        &mut self,
        event: &RequestEvent<'_>,
        lateness: Option<Duration>,
        names: &Names,
    ) {
        let (kind, name) = match self.entry(event.kind, event.name) {
            Some(_) => (event.kind.into(), event.name.into()),
            None => names.request(event.kind, event.name),
        };
        let by_name = match self.requests.get_mut(kind.as_ref()) {
            Some(by_name) => by_name,
            None => self.requests.entry(kind.clone().into_owned()).or_default(),
        };
        let entry = match by_name.get_mut(name.as_ref()) {
            Some(entry) => entry,
            None => by_name.entry(name.clone().into_owned()).or_default(),
        };
        entry.record(event.response_time, lateness);
        entry.total_length += event.response_length;
        if let Some(error) = event.error {
            entry.failures += 1;
            let key = (kind.into_owned(), name.into_owned(), error.to_owned());
            let key = if self.errors.contains_key(&key) { key } else { names.error(key) };
            add_group(&mut self.errors, key, Occurrences::now());
        }
    }

    pub(super) fn record_task_error(
        &mut self,
        class: &str,
        task: &str,
        error: &str,
        names: &Names,
    ) {
        let key = (class.to_owned(), task.to_owned(), error.to_owned());
        let key = if self.task_errors.contains_key(&key) { key } else { names.task_error(key) };
        add_group(&mut self.task_errors, key, Occurrences::now());
    }

    /// Whether a custom counter or trend of this name is here.
    pub(super) fn has_metric(&self, name: &str) -> bool {
        self.counters.contains_key(name) || self.trends.contains_key(name)
    }

    pub(super) fn add_counter(&mut self, name: &str, value: f64) {
        match self.counters.get_mut(name) {
            Some(total) => *total += value,
            None => {
                self.counters.insert(name.to_owned(), value);
            }
        }
    }

    pub(super) fn add_trend_histogram(&mut self, name: &str, samples: &Histogram<u64>) {
        match self.trends.get_mut(name) {
            // Both auto-resize, so adding cannot fail on range.
            Some(trend) => drop(trend.add(samples)),
            None => {
                self.trends.insert(name.to_owned(), samples.clone());
            }
        }
    }

    pub(super) fn add_trend(&mut self, name: &str, value: f64) {
        let thousandths = (value.max(0.0) * 1000.0).round() as u64;
        let trend = match self.trends.get_mut(name) {
            Some(trend) => trend,
            None => self.trends.entry(name.to_owned()).or_insert_with(new_histogram),
        };
        record_value(trend, thousandths);
    }

    /// Custom counters: name and total.
    pub fn counters(&self) -> impl Iterator<Item = (&str, f64)> {
        self.counters.iter().map(|(name, total)| (name.as_str(), *total))
    }

    /// Custom trends: name and samples in thousandths.
    pub fn trends(&self) -> impl Iterator<Item = (&str, &Histogram<u64>)> {
        self.trends.iter().map(|(name, samples)| (name.as_str(), samples))
    }

    /// Adds requests of one (type, name) group.
    pub(super) fn add_entry(&mut self, kind: &str, name: &str, entry: &Entry) {
        self.requests
            .entry(kind.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_default()
            .merge(entry);
    }

    /// Adds occurrences of a failure group.
    pub(super) fn add_error(&mut self, key: GroupKey, occurrences: Occurrences) {
        add_group(&mut self.errors, key, occurrences);
    }

    /// Adds occurrences of a task error group.
    pub(super) fn add_task_error(&mut self, key: GroupKey, occurrences: Occurrences) {
        add_group(&mut self.task_errors, key, occurrences);
    }

    /// Adds events recorded elsewhere, admitting names new to this shard
    /// through `names`, as [`Shard::record`] does: past the budget they are
    /// counted under the overflow names.
    pub(super) fn absorb(&mut self, other: &Shard, names: &Names) {
        for (kind, name, entry) in other.entries() {
            let (kind, name) = match self.entry(kind, name) {
                Some(_) => (kind.into(), name.into()),
                None => names.request(kind, name),
            };
            self.add_entry(&kind, &name, entry);
        }
        for (key, occurrences) in &other.errors {
            let key =
                if self.errors.contains_key(key) { key.clone() } else { names.error(key.clone()) };
            add_group(&mut self.errors, key, *occurrences);
        }
        for (key, occurrences) in &other.task_errors {
            let known = self.task_errors.contains_key(key);
            let key = if known { key.clone() } else { names.task_error(key.clone()) };
            add_group(&mut self.task_errors, key, *occurrences);
        }
        for (name, total) in &other.counters {
            let name = names.metric(name, |name| self.has_metric(name));
            self.add_counter(&name, *total);
        }
        for (name, samples) in &other.trends {
            let name = names.metric(name, |name| self.has_metric(name));
            self.add_trend_histogram(&name, samples);
        }
    }

    /// Adds every event of `other`.
    pub fn merge(&mut self, other: &Shard) {
        for (kind, by_name) in &other.requests {
            let mine = self.requests.entry(kind.clone()).or_default();
            for (name, entry) in by_name {
                mine.entry(name.clone()).or_default().merge(entry);
            }
        }
        for (key, occurrences) in &other.errors {
            add_group(&mut self.errors, key.clone(), *occurrences);
        }
        for (key, occurrences) in &other.task_errors {
            add_group(&mut self.task_errors, key.clone(), *occurrences);
        }
        for (name, total) in &other.counters {
            self.add_counter(name, *total);
        }
        for (name, samples) in &other.trends {
            self.add_trend_histogram(name, samples);
        }
    }

    /// What this shard gained since `earlier`, an earlier state of the same
    /// events: the events in between. (Given a shard that is no earlier
    /// state, e.g. from a confused worker, it gives what it can, never a
    /// negative count.)
    pub fn since(&self, earlier: &Shard) -> Shard {
        let mut gained = Shard::default();
        for (kind, name, entry) in self.entries() {
            let change = match earlier.entry(kind, name) {
                Some(before) => entry.since(before),
                None => Some(entry.clone()),
            };
            if let Some(change) = change {
                gained.add_entry(kind, name, &change);
            }
        }
        let counted = |now: &HashMap<GroupKey, Occurrences>,
                       before: &HashMap<GroupKey, Occurrences>| {
            now.iter()
                .map(|(key, seen)| {
                    let earlier = before.get(key).map_or(0, |before| before.count);
                    (key, Occurrences { count: seen.count.saturating_sub(earlier), ..*seen })
                })
                .filter(|(_, seen)| seen.count > 0)
                .map(|(key, seen)| (key.clone(), seen))
                .collect::<HashMap<_, _>>()
        };
        gained.errors = counted(&self.errors, &earlier.errors);
        gained.task_errors = counted(&self.task_errors, &earlier.task_errors);
        for (name, total) in &self.counters {
            let change = total - earlier.counters.get(name).copied().unwrap_or(0.0);
            if change != 0.0 {
                gained.counters.insert(name.clone(), change);
            }
        }
        for (name, samples) in &self.trends {
            let mut change = samples.clone();
            if let Some(before) = earlier.trends.get(name) {
                let _ = change.subtract(before);
            }
            if !change.is_empty() {
                gained.trends.insert(name.clone(), change);
            }
        }
        gained
    }

    /// (requests, failures) over every group.
    pub fn totals(&self) -> (u64, u64) {
        self.entries().fold((0, 0), |(requests, failures), (_, _, entry)| {
            (requests + entry.histogram.len(), failures + entry.failures)
        })
    }

    /// The entry of one (type, name) group.
    pub fn entry(&self, kind: &str, name: &str) -> Option<&Entry> {
        self.requests.get(kind)?.get(name)
    }

    /// Every group merged into one entry.
    pub fn aggregated(&self) -> Entry {
        let mut all = Entry::default();
        for (_, _, entry) in self.entries() {
            all.merge(entry);
        }
        all
    }

    /// Every (type, name, entry), in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, &Entry)> {
        self.requests.iter().flat_map(|(kind, by_name)| {
            by_name.iter().map(move |(name, entry)| (kind.as_str(), name.as_str(), entry))
        })
    }

    /// Failure groups with their occurrences.
    pub fn errors(&self) -> impl Iterator<Item = (&GroupKey, Occurrences)> {
        self.errors.iter().map(|(key, seen)| (key, *seen))
    }

    /// Task error groups with their occurrences.
    pub fn task_errors(&self) -> impl Iterator<Item = (&GroupKey, Occurrences)> {
        self.task_errors.iter().map(|(key, seen)| (key, *seen))
    }
}
