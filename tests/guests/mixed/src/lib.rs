//! What a Locust file in the tests does too: `GET /`, `GET /status/404`
//! (a failure) and a task that fails with "boom, with comma", equally
//! often, 20 ms apart; for comparing report files with Locust's.

use std::time::Duration;

use wasmload_sdk::prelude::*;

struct Mixed;

impl User for Mixed {
    fn class() -> Class<Self> {
        Class::new("mixed")
            .wait(Wait::constant(Duration::from_millis(20)))
            .task(Task::new("index", |_| get("/")))
            .task(Task::new("missing", |_| get("/status/404")))
            .task(Task::new("boom", |_| Err(Error::msg("boom, with comma"))))
    }

    fn on_start() -> Result<Self> {
        Ok(Mixed)
    }
}

fn get(path: &str) -> Result<()> {
    http::get(path).send()?;
    Ok(())
}

wasmload_sdk::users!(Mixed);
