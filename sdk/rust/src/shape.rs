//! Load shapes: the component decides the load over time (Locust's
//! `LoadTestShape`).
//!
//! ```ignore
//! #[derive(Default)]
//! struct Spike;
//!
//! impl Shape for Spike {
//!     fn tick(&mut self, run_time: Duration) -> Option<Load> {
//!         match run_time.as_secs() {
//!             0..10 => Some(Load::Users { users: 10, spawn_rate: 10.0 }),
//!             10..20 => Some(Load::Users { users: 100, spawn_rate: 50.0 }),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! wasmload_sdk::users!(Browser; shape = Spike);
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::time::Duration;

use crate::bindings::exports::wasmload::user::behaviour::{LoadTarget, UserTarget};

/// The load a shape asks for at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// Closed model: run `users` users, starting or stopping `spawn_rate`
    /// of them per second.
    Users { users: u32, spawn_rate: f64 },
    /// Open model: start this many iterations per second.
    Rate(f64),
}

/// The load over a run. wasmload makes one with `Default` and calls
/// [`Shape::tick`] once a second; a shape keeps one model for the whole run.
pub trait Shape: Default + 'static {
    /// The load from now on, or `None` to end the run.
    fn tick(&mut self, run_time: Duration) -> Option<Load>;
}

thread_local! {
    /// The shape's state between ticks; the shape has an instance of its own.
    static STATE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

#[doc(hidden)]
pub fn tick<S: Shape>(run_time_us: u64) -> LoadTarget {
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        let shape = state.get_or_insert_with(|| Box::new(S::default()));
        let Some(shape) = shape.downcast_mut::<S>() else {
            unreachable!("a component exports one shape type")
        };
        match shape.tick(Duration::from_micros(run_time_us)) {
            Some(Load::Users { users, spawn_rate }) => {
                LoadTarget::Users(UserTarget { users, spawn_rate })
            }
            Some(Load::Rate(rate)) => LoadTarget::Rate(rate),
            None => LoadTarget::Stop,
        }
    })
}
