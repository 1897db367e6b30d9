//! For the host-call micro-benchmark: each task makes `CALLS` calls of one
//! kind, so a task's time divided by `CALLS` is the cost of one call.

use std::time::Duration;

use wasmload_sdk::prelude::*;

/// Calls per task; the benchmark divides by the same number.
const CALLS: u32 = 1000;

struct Caller;

impl User for Caller {
    fn class() -> Class<Self> {
        Class::new("caller")
            .task(Task::new("async", |_| repeat(|| context::sleep(Duration::ZERO))))
            .task(Task::new("sync", |_| {
                repeat(|| {
                    std::hint::black_box(context::now());
                })
            }))
            .task(Task::new("none", |_| Ok(())))
    }

    fn on_start() -> Result<Self> {
        Ok(Caller)
    }
}

fn repeat(call: impl Fn()) -> Result<()> {
    for _ in 0..CALLS {
        call();
    }
    Ok(())
}

wasmload_sdk::users!(Caller);
