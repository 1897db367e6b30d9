//! The answers a plain-text HTTP/1.1 exchange must read right, one task
//! each, against the edge-case server (tests/src/edges.rs); a check that
//! fails is a task error naming it.

use wasmload_sdk::prelude::*;

struct Edges;

impl User for Edges {
    fn class() -> Class<Self> {
        Class::new("edges")
            .task(Task::new("chunked", Self::chunked))
            .task(Task::new("informational", Self::informational))
            .task(Task::new("head", Self::head))
            .task(Task::new("close", Self::close))
            .task(Task::new("until close", Self::until_close))
            .task(Task::new("extra", Self::extra))
            .task(Task::new("cut", Self::cut))
            .task(Task::new("huge head", Self::huge_head))
    }

    fn on_start() -> Result<Self> {
        Ok(Edges)
    }
}

/// `/length`'s answer on what may be the same connection: the exchange
/// before left it in step.
fn in_step() -> Result<()> {
    http::get("/length").send()?.expect_status(200)?.check_text("hello world\n")
}

trait CheckText: Sized {
    fn check_text(self, expected: &str) -> Result<()>;
}

impl CheckText for http::Response {
    fn check_text(self, expected: &str) -> Result<()> {
        let text = self.text();
        ensure(text == expected, &format!("body {text:?}, expected {expected:?}"))
    }
}

impl Edges {
    fn chunked(&mut self) -> Result<()> {
        http::get("/chunked").send()?.expect_status(200)?.check_text("hello chunks")?;
        in_step()
    }

    fn informational(&mut self) -> Result<()> {
        let sent = http::post("/continue").header("expect", "100-continue").body("the body").send()?;
        sent.expect_status(200)?.check_text("the body")?;
        in_step()
    }

    fn head(&mut self) -> Result<()> {
        let answer = http::head("/length").send()?.expect_status(200)?;
        ensure(answer.header("content-length").as_deref() == Some("12"), "HEAD's content-length")?;
        answer.check_text("")?;
        in_step()
    }

    fn close(&mut self) -> Result<()> {
        http::get("/close").send()?.expect_status(200)?.check_text("close")?;
        in_step()
    }

    fn until_close(&mut self) -> Result<()> {
        let answer = http::get("/until-close").send()?.expect_status(200)?;
        ensure(answer.bytes().len() == 20_000, "a body that ends with the connection")?;
        in_step()
    }

    fn extra(&mut self) -> Result<()> {
        http::get("/extra").send()?.expect_status(200)?.check_text("extra")?;
        in_step()
    }

    fn cut(&mut self) -> Result<()> {
        ensure(http::get("/cut").send().is_err(), "a body cut short is an error")?;
        in_step()
    }

    fn huge_head(&mut self) -> Result<()> {
        ensure(http::get("/huge-head").send().is_err(), "a head over 64 KiB is an error")?;
        in_step()
    }
}

wasmload_sdk::users!(Edges);
