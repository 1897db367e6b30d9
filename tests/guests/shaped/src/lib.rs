//! A user with a load shape. `-e SHAPE=users`: 2 users for 2 s, then 5
//! users for 2 s, then stop. `-e SHAPE=rate`: 50 iterations/s for 2 s,
//! then 100/s for 2 s, then stop. Each task is `GET /shaped`; each user first says `GET /user/{id}`.

use std::time::Duration;

use wasmload_sdk::prelude::*;

struct Visitor;

impl User for Visitor {
    fn class() -> Class<Self> {
        Class::new("visitor").wait(Wait::constant(Duration::from_millis(100))).task(Task::new(
            "visit",
            |_| {
                http::get("/shaped").send()?;
                Ok(())
            },
        ))
    }

    fn on_start() -> Result<Self> {
        http::get(&format!("/user/{}", context::user_id())).send()?;
        Ok(Visitor)
    }
}

#[derive(Default)]
struct Steps;

impl Shape for Steps {
    fn tick(&mut self, run_time: Duration) -> Option<Load> {
        let rate = context::param_or("SHAPE", "users") == "rate";
        match (run_time.as_secs_f64(), rate) {
            (t, false) if t < 2.0 => Some(Load::Users { users: 2, spawn_rate: 100.0 }),
            (t, false) if t < 4.0 => Some(Load::Users { users: 5, spawn_rate: 100.0 }),
            (t, true) if t < 2.0 => Some(Load::Rate(50.0)),
            (t, true) if t < 4.0 => Some(Load::Rate(100.0)),
            _ => None,
        }
    }
}

wasmload_sdk::users!(Visitor; shape = Steps);
