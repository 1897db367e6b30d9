//! Test guests that prove one behaviour per step: a single user class
//! whose one task, `step`, runs the given functions in turn, so `-i N`
//! runs each of them N / (number of steps) times.

/// Exports a user class named `$class` whose task `step` runs `$step`s in turn.
///
/// ```ignore
/// steps::step_user!("checker", [marked_failure, marked_success]);
/// ```
#[macro_export]
macro_rules! step_user {
    ($class:literal, [$($step:path),+ $(,)?]) => {
        struct StepUser {
            next: usize,
        }

        const STEPS: &[fn() -> wasmload_sdk::Result<()>] = &[$($step),+];

        impl wasmload_sdk::User for StepUser {
            fn class() -> wasmload_sdk::Class<Self> {
                wasmload_sdk::Class::new($class).task(wasmload_sdk::Task::new("step", Self::step))
            }

            fn on_start() -> wasmload_sdk::Result<Self> {
                Ok(StepUser { next: 0 })
            }
        }

        impl StepUser {
            fn step(&mut self) -> wasmload_sdk::Result<()> {
                let step = STEPS[self.next % STEPS.len()];
                self.next += 1;
                step()
            }
        }

        wasmload_sdk::users!(StepUser);
    };
}
