//! One task per way a response can be judged, each run in turn.

use wasmload_sdk::prelude::*;

/// A 200 the user rejects.
fn marked_failure() -> Result<()> {
    let response = http::get("/a").send()?;
    response.failure("custom reason");
    // A later verdict does not change the recorded one.
    response.success();
    Ok(())
}

/// A 404 the user accepts.
fn marked_success() -> Result<()> {
    http::get("/status/404").send()?.success();
    Ok(())
}

/// A 500 nobody judged: a failure by status.
fn judged_by_status() -> Result<()> {
    http::get("/status/500").send()?;
    Ok(())
}

/// Three redirects, followed to `/`.
fn redirected() -> Result<()> {
    let response = http::get("/redirect/3").send()?;
    let lands_on_root = response.url().ends_with("/") && response.status() == 200;
    response.check(lands_on_root, || "redirects did not end on /".into())?;
    Ok(())
}

/// The default name drops the query string.
fn named_with_query() -> Result<()> {
    http::get("/b?x=1&y=2").send()?;
    Ok(())
}

steps::step_user!(
    "checker",
    [marked_failure, marked_success, judged_by_status, redirected, named_with_query]
);
