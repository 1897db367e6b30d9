//! Two user classes, weights 1 and 3; each user announces its class once.
//! `-e ADMINS=N` makes the admin class a fixed count of N users.

use wasmload_sdk::prelude::*;

struct Admin;
struct Member;

impl User for Admin {
    fn class() -> Class<Self> {
        let class = Class::new("admin").task(Task::new("audit", |_| get("/audit")));
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
        Class::new("member").weight(3).task(Task::new("browse", |_| get("/browse")))
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
