//! The peer of `http-hammer`: each user GETs `/`, then waits `WAIT_MS`
//! milliseconds (default 0).

use std::time::Duration;

use goose::prelude::*;

async fn get(user: &mut GooseUser) -> TransactionResult {
    let _ = user.get("/").await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let wait = std::env::var("WAIT_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(0);
    let wait = Duration::from_millis(wait);
    let mut hammer = scenario!("hammer").register_transaction(transaction!(get));
    if !wait.is_zero() {
        hammer = hammer.set_wait_time(wait, wait)?;
    }
    GooseAttack::initialize()?.register_scenario(hammer).execute().await?;
    Ok(())
}
