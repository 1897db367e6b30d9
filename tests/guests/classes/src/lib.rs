//! Two user classes, weights 1 and 3; each user announces its class once.
//! `-e ADMINS=N` makes the admin class a fixed count of N users. Tasks
//! wait 25 ms so that `--iterations` outlast the start of every user, even
//! on a busy machine: a user starting after the last iteration never starts.

use wasmload_sdk::prelude::*;

fn pause() -> Wait {
    Wait::constant(std::time::Duration::from_millis(25))
}

struct Admin;
struct Member;

impl User for Admin {
    fn class() -> Class<Self> {
        let class = Class::new("admin").wait(pause()).task(Task::new("audit", |_| get("/audit")));
        match context::param("ADMINS").and_then(|n| n.parse().ok()) {
            Some(admins) => class.fixed_count(admins),
            None => class,
        }
    }

    fn on_start() -> Result<Self> {
        get("/start/admin")?;
        Ok(Admin)
    }
}

impl User for Member {
    fn class() -> Class<Self> {
        Class::new("member").weight(3).wait(pause()).task(Task::new("browse", |_| get("/browse")))
    }

    fn on_start() -> Result<Self> {
        get("/start/member")?;
        Ok(Member)
    }
}

fn get(path: &str) -> Result<()> {
    http::get(path).send()?;
    Ok(())
}

wasmload_sdk::users!(Admin, Member);
