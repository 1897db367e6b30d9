//! User 0 panics on its third task; every other user keeps going.

use wasmload_sdk::prelude::*;

struct Trapper {
    tasks_run: u32,
}

impl User for Trapper {
    fn class() -> Class<Self> {
        Class::new("trapper")
            .wait(Wait::constant(std::time::Duration::from_millis(10)))
            .task(Task::new("get", Self::get))
    }

    fn on_start() -> Result<Self> {
        Ok(Trapper { tasks_run: 0 })
    }
}

impl Trapper {
    fn get(&mut self) -> Result<()> {
        self.tasks_run += 1;
        if context::user_id() == 0 && self.tasks_run == 3 {
            panic!("user 0 gives up on purpose");
        }
        http::get("/a").send()?;
        Ok(())
    }
}

wasmload_sdk::users!(Trapper);
