//! User 0 misbehaves as `-e MODE=...` says; every other user does one
//! `GET /a` per task. Modes: `bomb` (allocates without end), `loop`
//! (never returns), `start-trap` (panics in on_start), `every-3` (every
//! user panics on every third task), `huge-header` (a 24 MiB header).

use std::hint::black_box;

use wasmload_sdk::prelude::*;

struct Hostile {
    tasks_run: u64,
    mode: String,
}

impl User for Hostile {
    fn class() -> Class<Self> {
        Class::new("hostile")
            .wait(Wait::constant(std::time::Duration::from_millis(10)))
            .task(Task::new("work", Self::work))
    }

    fn on_start() -> Result<Self> {
        let mode = context::param_or("MODE", "none");
        if mode == "start-trap" && context::user_id() == 0 {
            panic!("refusing to start");
        }
        Ok(Hostile { tasks_run: 0, mode })
    }
}

impl Hostile {
    fn work(&mut self) -> Result<()> {
        self.tasks_run += 1;
        let misbehaving = context::user_id() == 0;
        match self.mode.as_str() {
            "bomb" if misbehaving => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "loop" if misbehaving => {
                let mut spins = 0u64;
                loop {
                    spins = black_box(spins.wrapping_add(1));
                }
            }
            "huge-header" if misbehaving => {
                let huge = "x".repeat(24 << 20);
                http::get("/a").header("x-huge", &huge).send()?;
                return Ok(());
            }
            "every-3" if self.tasks_run.is_multiple_of(3) => panic!("third task"),
            _ => {}
        }
        http::get("/a").send()?;
        Ok(())
    }
}

wasmload_sdk::users!(Hostile);
