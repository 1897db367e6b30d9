//! A shopper in a PostgreSQL shop: looks items up with a prepared statement
//! and buys them in transactions. Every statement is an event of type
//! postgres, recorded by the host; an item out of stock is the server's
//! check violation (SQLSTATE 23514), and the buy is rolled back.
//!
//! Create the shop with guest-examples/rust/postgres-shop/schema.sql, then
//! run with `--host postgres://user@127.0.0.1:5432/shop`; `-e WAIT_MS=N` sets
//! the pause after each task (default 100).

const std = @import("std");
const wl = @import("wasmload");

/// Items in the shop (schema.sql).
const items = 10;

var db: wl.Postgres = undefined;
var item_by_id: wl.Statement = undefined;

fn waitFromParam() callconv(.c) wl.c.wl_wait {
    return wl.c.wl_constant_ms(std.fmt.parseInt(u64, wl.param("WAIT_MS", "100"), 10) catch 100);
}

fn randomItem() wl.c.wl_pg_value {
    return wl.c.wl_pg_int(@intCast(wl.c.wl_random_range(1, items + 1)));
}

fn openShop() wl.Error!void {
    db = try wl.Postgres.connect(null);
    item_by_id = try db.prepare("item by id", "SELECT name, price, stock FROM items WHERE id = $1");
}

fn browse() wl.Error!void {
    const rows = try item_by_id.query(&.{randomItem()});
    try wl.ensure(rows.count() == 1, "{d} items with one id", .{rows.count()});
    const name = rows.text(0, 0) orelse "";
    try wl.ensure(std.mem.startsWith(u8, name, "item "), "item has no name", .{});
    // numeric arrives as its digits.
    const price = rows.text(0, 1) orelse "";
    try wl.ensure(std.mem.indexOfScalar(u8, price, '.') != null, "price is not numeric", .{});
}

fn buy() wl.Error!void {
    const item = randomItem();
    try db.begin();
    // The task fails with the statement's error; the rollback leaves the
    // connection fit for the next task.
    errdefer db.rollback() catch {};
    _ = try db.execute("reserve", "UPDATE items SET stock = stock - 1 WHERE id = $1", &.{item});
    const user: i64 = @intCast(wl.c.wl_user_id());
    _ = try db.execute("order", "INSERT INTO orders (item_id, user_id) VALUES ($1, $2)", &.{ item, wl.c.wl_pg_int(user) });
    try db.commit();
}

fn closeShop() wl.Error!void {
    item_by_id.close();
    db.close();
}

comptime {
    wl.exportUsers(&.{.{
        .name = "shopper",
        .tasks = &.{ wl.task("browse", browse, 3, null), wl.task("buy", buy, 1, null) },
        .wait = waitFromParam,
        .on_start = openShop,
        .on_stop = closeShop,
    }});
}
