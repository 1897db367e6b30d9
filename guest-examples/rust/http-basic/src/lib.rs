//! A shopper of the demo shop (`demo-target`): logs in once, then browses
//! pages, views items (checking what comes back) and opens the cart.
//!
//! Parameters: `-e WAIT_MS=min-max` (default 500-1500).

use std::time::Duration;

use serde_json::Value;
use wasmload_sdk::prelude::*;

struct Shopper {
    token: String,
}

impl User for Shopper {
    fn class() -> Class<Self> {
        let (min, max) = wait_range();
        Class::new("shopper")
            .wait(Wait::between(min, max))
            .task(Task::new("browse", Self::browse).weight(3).tag("browse"))
            .task(Task::new("view item", Self::view_item).weight(2).tag("browse"))
            .task(Task::new("cart", Self::cart).tag("cart"))
    }

    fn on_start() -> Result<Self> {
        let login = format!(r#"{{"username":"user{}","password":"secret"}}"#, context::user_id());
        let response = http::post("/login").json_text(login).send()?.expect_status(200)?;
        let body: Value = serde_json::from_slice(response.bytes()).map_err(Error::msg)?;
        let token = body["token"]
            .as_str()
            .ok_or_else(|| Error::msg("login answered without a token"))?
            .to_owned();
        Ok(Shopper { token })
    }
}

impl Shopper {
    /// A page of the catalogue; every page is grouped under `/items`.
    fn browse(&mut self) -> Result<()> {
        let page = context::random_range(1, 6);
        http::get(&format!("/items?page={page}")).send()?;
        Ok(())
    }

    /// One item, checked: the right id, and in stock (else a failure).
    fn view_item(&mut self) -> Result<()> {
        let id = context::random_range(1, 1001);
        let response =
            http::get(&format!("/items/{id}")).name("/items/[id]").send()?.expect_status(200)?;
        let item: Value = match serde_json::from_slice(response.bytes()) {
            Ok(item) => item,
            Err(error) => {
                response.failure(&format!("invalid JSON: {error}"));
                return Ok(());
            }
        };
        if item["id"] != id {
            response.failure("wrong item returned");
        } else if item["in_stock"] != true {
            response.failure("out of stock");
        }
        Ok(())
    }

    /// The cart needs the session cookie set at login.
    fn cart(&mut self) -> Result<()> {
        http::get("/cart")
            .header("authorization", &format!("Bearer {}", self.token))
            .send()?
            .expect_status(200)?;
        Ok(())
    }
}

fn wait_range() -> (Duration, Duration) {
    let text = context::param_or("WAIT_MS", "500-1500");
    let (min, max) = text.split_once('-').unwrap_or((&text, &text));
    let ms = |value: &str| Duration::from_millis(value.trim().parse().unwrap_or(0));
    (ms(min), ms(max))
}

wasmload_sdk::users!(Shopper);
