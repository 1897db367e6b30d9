//! The run's distinct names, up to `--max-names` of each kind. A guest
//! chooses its event names, failure texts and metric names; one that makes
//! a new name per event would otherwise grow the host's stats without end
//! (k6 warns past a few thousand series; Locust has no limit). Past the
//! budget, events are still counted, under an overflow name that says so.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Mutex;

use super::shard::GroupKey;
use crate::sync::lock;

/// The type of the overflow row of request groups.
pub const OVERFLOW_KIND: &str = "*";
/// Longest type or name kept, in bytes; longer ones are cut.
const MAX_NAME: usize = 256;
/// Longest failure text kept, in bytes.
const MAX_ERROR: usize = 1024;

/// Names admitted so far, shared by every shard of a run.
pub(super) struct Names {
    max: usize,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    requests: HashSet<(String, String)>,
    errors: HashSet<GroupKey>,
    task_errors: HashSet<GroupKey>,
    metrics: HashSet<String>,
}

impl Names {
    pub(super) fn new(max: u32) -> Names {
        Names { max: max as usize, seen: Mutex::default() }
    }

    /// The (type, name) an event new to a shard is recorded under.
    pub(super) fn request<'a>(&self, kind: &'a str, name: &'a str) -> (Cow<'a, str>, Cow<'a, str>) {
        let key = (cut(kind, MAX_NAME).into_owned(), cut(name, MAX_NAME).into_owned());
        if self.admit(|seen| &mut seen.requests, &key) {
            (Cow::Owned(key.0), Cow::Owned(key.1))
        } else {
            let overflow = format!("(names past --max-names {})", self.max);
            (Cow::Borrowed(OVERFLOW_KIND), Cow::Owned(overflow))
        }
    }

    /// A failure group new to a shard, its text cut or replaced.
    pub(super) fn error(&self, key: GroupKey) -> GroupKey {
        self.group(key, |seen| &mut seen.errors, "errors")
    }

    /// A task error group new to a shard, its text cut or replaced.
    pub(super) fn task_error(&self, key: GroupKey) -> GroupKey {
        self.group(key, |seen| &mut seen.task_errors, "errors")
    }

    /// The name a custom metric is kept under; `known` says whether the
    /// shard has it already (then no lock is taken).
    pub(super) fn metric<'a>(&self, name: &'a str, known: impl Fn(&str) -> bool) -> Cow<'a, str> {
        if known(name) {
            return Cow::Borrowed(name);
        }
        let name = cut(name, MAX_NAME).into_owned();
        if self.admit(|seen| &mut seen.metrics, &name) {
            Cow::Owned(name)
        } else {
            Cow::Owned(format!("(metrics past --max-names {})", self.max))
        }
    }

    fn group(
        &self,
        (a, b, text): GroupKey,
        set: fn(&mut Seen) -> &mut HashSet<GroupKey>,
        what: &str,
    ) -> GroupKey {
        let key = (a, b, cut(&text, MAX_ERROR).into_owned());
        if self.admit(set, &key) {
            key
        } else {
            let overflow = format!("({what} past --max-names {})", self.max);
            (key.0, key.1, overflow)
        }
    }

    /// Whether `key` is, or now becomes, one of the run's names.
    fn admit<K: std::hash::Hash + Eq + Clone>(
        &self,
        set: impl FnOnce(&mut Seen) -> &mut HashSet<K>,
        key: &K,
    ) -> bool {
        let mut seen = lock(&self.seen);
        let set = set(&mut seen);
        if set.contains(key) {
            return true;
        }
        if set.len() >= self.max {
            return false;
        }
        set.insert(key.clone());
        true
    }
}

/// `text` cut to at most `max` bytes on a character boundary, marked `…`.
fn cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}
