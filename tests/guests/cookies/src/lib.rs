//! Logs in once (the server sets a session cookie), then calls `/me`,
//! which answers 401 without that cookie; logs out when stopping.

use wasmload_sdk::prelude::*;

struct Member;

impl User for Member {
    fn class() -> Class<Self> {
        // Says which instances build their class, and how often: each made
        // user's once, in `describe` before the start, which reuses it.
        println!("describing");
        Class::new("member")
            .wait(Wait::constant(std::time::Duration::from_millis(20)))
            .task(Task::new("me", Self::me))
    }

    fn on_start() -> Result<Self> {
        http::post("/login").send()?.expect_status(200)?;
        Ok(Member)
    }

    fn on_stop(&mut self) -> Result<()> {
        http::post("/logout").send()?.expect_status(200)?;
        Ok(())
    }
}

impl Member {
    fn me(&mut self) -> Result<()> {
        http::get("/me").send()?.expect_status(200)?;
        Ok(())
    }
}

wasmload_sdk::users!(Member);
