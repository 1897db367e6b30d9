//! A shopper in a PostgreSQL shop: looks items up with a prepared
//! statement and buys them in transactions. Every statement is an event of
//! type `postgres`, recorded by the host; an item out of stock is the
//! server's check violation, a failure grouped under its SQLSTATE.
//!
//! Create the shop with `psql -f schema.sql`, then run with
//! `--host postgres://user@127.0.0.1:5432/shop`.

use std::time::Duration;

use wasmload_sdk::prelude::*;

/// Items in the shop (`schema.sql`).
const ITEMS: u64 = 10;

struct Shopper {
    db: postgres::Connection,
    item_by_id: postgres::Statement,
}

impl User for Shopper {
    fn class() -> Class<Self> {
        Class::new("shopper")
            .wait(Wait::constant(Duration::from_millis(wait_ms())))
            .task(Task::new("browse", Self::browse).weight(3))
            .task(Task::new("buy", Self::buy))
    }

    fn on_start() -> Result<Self> {
        let mut db = postgres::connect("")?;
        let item_by_id =
            db.prepare("item by id", "SELECT name, price, stock FROM items WHERE id = $1")?;
        Ok(Shopper { db, item_by_id })
    }
}

/// `-e WAIT_MS=...`: the pause after each task (default 100 ms).
fn wait_ms() -> u64 {
    context::param_or("WAIT_MS", "100").parse().unwrap_or(100)
}

fn random_item() -> postgres::Value {
    let id = context::random_range(1, ITEMS + 1) as i64;
    id.into()
}

impl Shopper {
    fn browse(&mut self) -> Result<()> {
        let rows = self.item_by_id.query(&[random_item()])?;
        let item = rows.rows.first().ok_or("no such item")?;
        ensure(item[0].as_str().is_some_and(|name| name.starts_with("item ")), "item has no name")?;
        // numeric arrives as its digits.
        ensure(item[1].as_str().is_some_and(|price| price.contains('.')), "price is not numeric")
    }

    fn buy(&mut self) -> Result<()> {
        let item = random_item();
        self.db.begin()?;
        let reserved = self.db.execute_named(
            "reserve",
            "UPDATE items SET stock = stock - 1 WHERE id = $1",
            &[item.clone()],
        );
        if let Err(error) = reserved {
            self.db.rollback()?;
            return Err(error.into());
        }
        self.db.execute_named(
            "order",
            "INSERT INTO orders (item_id, user_id) VALUES ($1, $2)",
            &[item, (context::user_id() as i64).into()],
        )?;
        self.db.commit()?;
        Ok(())
    }
}

wasmload_sdk::users!(Shopper);
