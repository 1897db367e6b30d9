//! A user written with an ordinary HTTP client library (`waki`, built on
//! `wasi:http`), unchanged: wasmload routes its requests through the user's
//! session and records each one, with no timing code here.
//!
//! The library needs absolute URLs, so the base is read from `--host`. The
//! optional `x-wasmload-name` header groups requests in the stats (the host
//! removes it before sending).

use wasmload_sdk::prelude::*;

struct Browser {
    base: String,
    client: waki::Client,
}

impl User for Browser {
    fn class() -> Class<Self> {
        Class::new("library user")
            .task(Task::new("home", Self::home).weight(2))
            .task(Task::new("item", Self::item))
    }

    fn on_start() -> Result<Self> {
        let base = context::host().ok_or("set --host http://host:port")?;
        Ok(Browser { base: base.trim_end_matches('/').to_owned(), client: waki::Client::new() })
    }
}

impl Browser {
    fn home(&mut self) -> Result<()> {
        let response = self.client.get(&format!("{}/", self.base)).send().map_err(Error::msg)?;
        if response.status_code() != 200 {
            return Err(Error::msg(format!("home answered {}", response.status_code())));
        }
        Ok(())
    }

    fn item(&mut self) -> Result<()> {
        let id = context::random_range(1, 1001);
        let response = self
            .client
            .get(&format!("{}/items/{id}", self.base))
            .header("x-wasmload-name", "/items/[id]")
            .send()
            .map_err(Error::msg)?;
        let body = response.body().map_err(Error::msg)?;
        if !String::from_utf8_lossy(&body).contains(&format!("\"id\":{id}")) {
            return Err(Error::msg("wrong item"));
        }
        Ok(())
    }
}

wasmload_sdk::users!(Browser);
