//! `events`: request events for work the host does not see itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::bindings::events::{self, RequestEvent as GuestEvent};
use crate::protocols::{Protocol, RunSetup, UserSetup};
use crate::sandbox::{budgeted_table, push_budgeted};
use crate::stats::{Recorder, RequestEvent};

/// One user's events state: its open timers.
pub struct EventsUser {
    recorder: Recorder,
    table: ResourceTable,
}

/// Events the guest reports itself; nothing run-wide.
impl Protocol for EventsUser {
    type Config = ();

    fn configure(_: &RunSetup<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    /// As many open timers as the user's budget allows.
    fn for_user(_: &Arc<()>, user: &UserSetup<'_>) -> Self {
        EventsUser {
            recorder: user.recorder.clone(),
            table: budgeted_table(user.budget.budgets().max_resources),
        }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        events::add_to_linker::<T, HasSelf<EventsUser>>(linker, get)
    }
}

/// A block being timed by the guest; records its event once, at the latest
/// when dropped (even when the whole user is torn down).
pub struct Timer {
    recorder: Recorder,
    kind: String,
    name: String,
    started: Instant,
    settled: bool,
}

impl Timer {
    fn settle(&mut self, response_length: u64, error: Option<&str>) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        self.recorder.record(&RequestEvent {
            kind: &self.kind,
            name: &self.name,
            response_time: self.started.elapsed(),
            response_length,
            error,
        });
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.settle(0, None);
    }
}

impl events::Host for EventsUser {
    fn add_counter(&mut self, name: String, value: f64) -> wasmtime::Result<()> {
        self.recorder.add_counter(&name, value);
        Ok(())
    }

    fn add_trend(&mut self, name: String, value: f64) -> wasmtime::Result<()> {
        self.recorder.add_trend(&name, value);
        Ok(())
    }

    fn fire(&mut self, event: GuestEvent) -> wasmtime::Result<()> {
        self.recorder.record(&RequestEvent {
            kind: &event.kind,
            name: &event.name,
            response_time: Duration::from_micros(event.response_time_us),
            response_length: event.response_length,
            error: event.error.as_deref(),
        });
        Ok(())
    }
}

impl events::HostTimer for EventsUser {
    fn new(&mut self, kind: String, name: String) -> wasmtime::Result<Resource<Timer>> {
        let timer = Timer {
            recorder: self.recorder.clone(),
            kind,
            name,
            started: Instant::now(),
            settled: false,
        };
        push_budgeted(&mut self.table, timer, "timers")
    }

    fn success(&mut self, timer: Resource<Timer>, response_length: u64) -> wasmtime::Result<()> {
        self.table.get_mut(&timer)?.settle(response_length, None);
        Ok(())
    }

    fn failure(&mut self, timer: Resource<Timer>, reason: String) -> wasmtime::Result<()> {
        self.table.get_mut(&timer)?.settle(0, Some(&reason));
        Ok(())
    }

    fn drop(&mut self, timer: Resource<Timer>) -> wasmtime::Result<()> {
        self.table.delete(timer)?;
        Ok(())
    }
}
