//! Users that say who they are: each `GET /user/{id}/{class}` once, on
//! start, then `GET /task/{class}` per task, waiting `-e WAIT_MS` (default
//! 0) between tasks. Classes `a` (weight 1) and `b` (weight 2); with `-e
//! FIXED=N`, also `fixed`, exactly N users.

use std::time::Duration;

use wasmload_sdk::prelude::*;

/// A class of these users, named `NAME`.
trait Named: User + Sized {
    const NAME: &'static str;
    const MADE: Self;

    fn described(weight: u32) -> Class<Self> {
        let wait = context::param("WAIT_MS").and_then(|ms| ms.parse().ok()).unwrap_or(0);
        Class::new(Self::NAME)
            .weight(weight)
            .wait(Wait::constant(Duration::from_millis(wait)))
            .task(Task::new("task", |_: &mut Self| get(&format!("/task/{}", Self::NAME))))
    }

    fn started() -> Result<Self> {
        get(&format!("/user/{}/{}", context::user_id(), Self::NAME))?;
        Ok(Self::MADE)
    }
}

fn get(path: &str) -> Result<()> {
    http::get(path).send()?;
    Ok(())
}

struct A;
struct B;
struct Fixed;

impl Named for A {
    const NAME: &'static str = "a";
    const MADE: Self = A;
}

impl Named for B {
    const NAME: &'static str = "b";
    const MADE: Self = B;
}

impl Named for Fixed {
    const NAME: &'static str = "fixed";
    const MADE: Self = Fixed;
}

impl User for A {
    fn class() -> Class<Self> {
        A::described(1)
    }

    fn on_start() -> Result<Self> {
        A::started()
    }
}

impl User for B {
    fn class() -> Class<Self> {
        B::described(2)
    }

    fn on_start() -> Result<Self> {
        B::started()
    }
}

impl User for Fixed {
    fn class() -> Class<Self> {
        let fixed = context::param("FIXED").and_then(|n| n.parse().ok()).unwrap_or(0);
        Fixed::described(0).fixed_count(fixed)
    }

    fn on_start() -> Result<Self> {
        Fixed::started()
    }
}

wasmload_sdk::users!(A, B, Fixed);
