//! User 0 misbehaves as `-e MODE=...` says; every other user does one `GET /a`
//! per task. Modes: `bomb` (allocates without end), `loop` (never returns),
//! `describe-loop` (`class()` never returns: in `describe`, and in `on-start`
//! of an instance not described), `start-trap` (panics in on_start), `every-3`
//! (every user panics on every third task), `huge-header` (a 24 MiB header),
//! `names` (a new event name and counter name each time), `hoard` (posts 64 KiB
//! bodies, keeping every 64 KiB response), `connections` (opens TCP connections
//! to the host and keeps them), `log-flood` (4 KiB log lines without pause),
//! `forbidden` (requests to a host the run does not allow).

use std::hint::black_box;
use std::time::Duration;

use wasmload_sdk::prelude::*;

struct Hostile {
    tasks_run: u64,
    mode: String,
    hoard: Vec<http::Response>,
    sockets: Vec<tcp::Connection>,
}

impl User for Hostile {
    fn class() -> Class<Self> {
        if context::param_or("MODE", "none") == "describe-loop" && context::user_id() == 0 {
            let mut spins = 0u64;
            loop {
                spins = black_box(spins.wrapping_add(1));
            }
        }
        Class::new("hostile")
            .wait(Wait::constant(std::time::Duration::from_millis(10)))
            .task(Task::new("work", Self::work))
    }

    fn on_start() -> Result<Self> {
        let mode = context::param_or("MODE", "none");
        if mode == "start-trap" && context::user_id() == 0 {
            panic!("refusing to start");
        }
        Ok(Hostile { tasks_run: 0, mode, hoard: Vec::new(), sockets: Vec::new() })
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
            "names" if misbehaving => {
                for i in 0..200 {
                    let unique = format!("name-{}-{i}", self.tasks_run);
                    events::fire("flood", &unique, Duration::from_micros(5), 0, None);
                    events::counter(&unique, 1.0);
                }
                return Ok(());
            }
            "hoard" if misbehaving => {
                let body = vec![b'x'; 64 << 10];
                for _ in 0..50 {
                    self.hoard.push(http::post("/bytes/65536").body(body.clone()).send()?);
                }
                return Ok(());
            }
            "connections" if misbehaving => {
                let address = context::host_address().unwrap_or_default();
                for _ in 0..20 {
                    if let Ok(connection) = tcp::connect(&address) {
                        self.sockets.push(connection);
                    }
                }
                return Ok(());
            }
            "log-flood" if misbehaving => {
                let line = "y".repeat(4 << 10);
                for _ in 0..100 {
                    context::info(&line);
                }
                return Ok(());
            }
            "forbidden" if misbehaving => {
                http::get("http://127.0.0.2:9/").name("forbidden").send()?;
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
