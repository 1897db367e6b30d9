//! The benchmark user: `GET /` (or `-e PATH=...`), then waits
//! `-e WAIT_MS=N` (default 0).

use std::time::Duration;

use wasmload_sdk::prelude::*;

struct Hammer {
    path: String,
}

impl User for Hammer {
    fn class() -> Class<Self> {
        let wait_ms = context::param_or("WAIT_MS", "0").parse().unwrap_or(0);
        Class::new("hammer")
            .wait(Wait::constant(Duration::from_millis(wait_ms)))
            .task(Task::new("get", Self::get))
    }

    fn on_start() -> Result<Self> {
        Ok(Hammer { path: context::param_or("PATH", "/") })
    }
}

impl Hammer {
    fn get(&mut self) -> Result<()> {
        http::get(&self.path).send()?;
        Ok(())
    }
}

wasmload_sdk::users!(Hammer);
