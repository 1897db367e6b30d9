//! One task per behaviour of the `rest` helper, each run in turn.

use wasmload_sdk::prelude::*;

/// `/` answers plain text: the request fails, the block never runs.
fn not_json() -> Result<()> {
    let ran = rest("GET", "/").send(|_| Ok(()))?;
    ensure(ran.is_none(), "the block ran on a non-JSON body")
}

/// An error inside the block fails the request, not the task.
fn failing_check() -> Result<()> {
    let outcome = rest("GET", "/items/10").send(|response| {
        if response.json["in_stock"] != true {
            return Err(Error::msg("out of stock"));
        }
        Ok(())
    })?;
    ensure(outcome.is_none(), "a failed check returned a value")
}

/// A passing block hands its value back.
fn passing_check() -> Result<()> {
    let id = rest("GET", "/items/3").send(|response| Ok(response.json["id"].as_u64()))?;
    ensure(id == Some(Some(3)), "the parsed id did not come back")
}

/// JSON headers are sent unless given.
fn json_headers() -> Result<()> {
    let seen = rest("GET", "/headers").send(|response| Ok(response.json.clone()))?;
    let seen = seen.ok_or("no headers came back")?;
    ensure(seen["content-type"] == "application/json", "no JSON content type")?;
    ensure(seen["accept"] == "application/json", "no JSON accept")
}

/// A serialized body goes out; `/login` answers with a token.
fn json_body() -> Result<()> {
    let body = credentials();
    let token = rest("POST", "/login")
        .json(&body)?
        .send(|response| Ok(response.json["token"].is_string()))?;
    ensure(token == Some(true), "no token")
}

fn credentials() -> std::collections::BTreeMap<&'static str, &'static str> {
    [("username", "rest"), ("password", "secret")].into_iter().collect()
}

steps::step_user!(
    "rest-checker",
    [not_json, failing_check, passing_check, json_headers, json_body]
);
