//! A client of the demo shop's JSON API, written with `rest()`: JSON
//! headers, parsed bodies, and checks that fail the request rather than
//! the task. `api()` shows how to build an API-specific helper on top.

use wasmload_sdk::prelude::*;
use wasmload_sdk::rest::Rest;

struct ApiClient {
    token: String,
}

impl User for ApiClient {
    fn class() -> Class<Self> {
        Class::new("api client")
            .task(Task::new("list items", Self::list_items).weight(2))
            .task(Task::new("view item", Self::view_item).weight(3))
    }

    fn on_start() -> Result<Self> {
        let credentials =
            [("username", format!("api{}", context::user_id())), ("password", "secret".into())];
        let body: std::collections::BTreeMap<_, _> = credentials.into_iter().collect();
        let token = rest("POST", "/login").json(&body)?.send(|response| {
            response.json["token"].as_str().map(str::to_owned).ok_or("no token".into())
        })?;
        Ok(ApiClient { token: token.ok_or("login failed")? })
    }
}

impl ApiClient {
    /// The shop's API conventions in one place: every call carries the
    /// session's bearer token.
    fn api(&self, method: &str, path: &str) -> Rest {
        rest(method, path).header("authorization", &format!("Bearer {}", self.token))
    }

    fn list_items(&mut self) -> Result<()> {
        self.api("GET", "/items").send(|response| {
            let items = response.json.as_array().ok_or("items is not a list")?;
            if items.is_empty() {
                return Err("no items".into());
            }
            Ok(())
        })?;
        Ok(())
    }

    fn view_item(&mut self) -> Result<()> {
        let id = context::random_range(1, 1001);
        self.api("GET", &format!("/items/{id}")).name("/items/[id]").send(|response| {
            if response.json["id"] != id {
                return Err("wrong item".into());
            }
            if response.json["in_stock"] != true {
                return Err("out of stock".into());
            }
            Ok(())
        })?;
        Ok(())
    }
}

wasmload_sdk::users!(ApiClient);
