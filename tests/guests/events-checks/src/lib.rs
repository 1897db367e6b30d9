//! Every way a guest reports its own events, one per step.

use std::time::Duration;

use wasmload_sdk::prelude::*;

/// An event measured elsewhere: 42 ms, 7 bytes; and custom metrics.
fn fired() -> Result<()> {
    events::fire("custom", "fired", Duration::from_millis(42), 7, None);
    events::counter("items bought", 2.0);
    events::trend("basket value", 10.5);
    Ok(())
}

fn fired_failure() -> Result<()> {
    events::fire("custom", "fired", Duration::from_millis(42), 0, Some("made-up error"));
    Ok(())
}

/// A timed block that fails: its error is the event's, and the task's.
fn timed_failure() -> Result<()> {
    let outcome = events::time("custom", "timed", || -> Result<u64> {
        context::sleep(Duration::from_millis(20));
        Err(Error::msg("block failed"))
    });
    match outcome {
        Err(_) => Ok(()),
        Ok(_) => Err(Error::msg("the failing block succeeded")),
    }
}

/// A timer dropped without a verdict records a success.
fn timer_dropped() -> Result<()> {
    let _timer = events::Timer::start("custom", "dropped");
    context::sleep(Duration::from_millis(5));
    Ok(())
}

steps::step_user!("reporter", [fired, fired_failure, timed_failure, timer_dropped]);
