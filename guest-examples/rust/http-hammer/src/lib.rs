//! The benchmark user: `GET /` (or `-e PATH=...`), then waits
//! `-e WAIT_MS=N` (default 0), or with `-e PACING_MS=N` starts a task every
//! N ms. `-e CLOSE=1` asks for a new connection per request
//! (`Connection: close`), for more users than the open-files limit.

use std::time::Duration;

use wasmload_sdk::prelude::*;

struct Hammer {
    path: String,
    close: bool,
}

impl User for Hammer {
    fn class() -> Class<Self> {
        let millis =
            |name| Duration::from_millis(context::param_or(name, "0").parse().unwrap_or(0));
        let wait = match millis("PACING_MS") {
            pacing if pacing.is_zero() => Wait::constant(millis("WAIT_MS")),
            pacing => Wait::constant_pacing(pacing),
        };
        Class::new("hammer").wait(wait).task(Task::new("get", Self::get))
    }

    fn on_start() -> Result<Self> {
        Ok(Hammer {
            path: context::param_or("PATH", "/"),
            close: context::param_or("CLOSE", "0") == "1",
        })
    }
}

impl Hammer {
    fn get(&mut self) -> Result<()> {
        let request = http::get(&self.path);
        let request = if self.close { request.header("connection", "close") } else { request };
        request.send()?;
        Ok(())
    }
}

wasmload_sdk::users!(Hammer);
