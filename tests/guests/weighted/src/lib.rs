//! Two tagged tasks of weights 3 and 1, one request each, no wait.

use wasmload_sdk::prelude::*;

struct Weighted;

impl User for Weighted {
    fn class() -> Class<Self> {
        Class::new("weighted")
            .task(Task::new("a", |_| get("/a")).weight(3).tag("a"))
            .task(Task::new("b", |_| get("/b")).tag("b"))
    }

    fn on_start() -> Result<Self> {
        Ok(Weighted)
    }
}

fn get(path: &str) -> Result<()> {
    http::get(path).send()?;
    Ok(())
}

wasmload_sdk::users!(Weighted);
