//! A shopper of the demo shop (`demo-target`): logs in once, then browses
//! pages, views items (checking what comes back) and opens the cart.
//!
//! Parameters: `-e WAIT_MS=min-max` (default 500-1500).

const std = @import("std");
const wl = @import("wasmload");

var authorization: [300]u8 = undefined;

fn waitFromParam() callconv(.c) wl.c.wl_wait {
    const range = wl.param("WAIT_MS", "500-1500");
    var parts = std.mem.splitScalar(u8, range, '-');
    const low = std.fmt.parseInt(u64, parts.first(), 10) catch 500;
    const high = if (parts.next()) |text| std.fmt.parseInt(u64, text, 10) catch low else low;
    return wl.c.wl_between_ms(low, high);
}

fn logIn() wl.Error!void {
    var login: [128]u8 = undefined;
    const body = try wl.print(&login, "{{\"username\":\"user{d}\",\"password\":\"secret\"}}", .{wl.c.wl_user_id()});
    const answer = try wl.postJson("/login", body);
    try wl.expectStatus(answer, 200);
    var token: [256]u8 = undefined;
    try wl.ensure(wl.c.wl_json_string(wl.c.wl_body(answer), "token", &token, token.len), "login answered without a token", .{});
    _ = try wl.print(&authorization, "Bearer {s}", .{std.mem.sliceTo(&token, 0)});
}

/// A page of the catalogue; every page is grouped under `/items`.
fn browse() wl.Error!void {
    var url: [64]u8 = undefined;
    _ = try wl.get(try wl.print(&url, "/items?page={d}", .{wl.c.wl_random_range(1, 6)}));
}

/// One item, checked: the right id, and in stock (else a failure).
fn viewItem() wl.Error!void {
    const id: i64 = @intCast(wl.c.wl_random_range(1, 1001));
    var url: [64]u8 = undefined;
    const answer = try wl.rest(.{ .url = try wl.print(&url, "/items/{d}", .{id}), .name = "/items/[id]" });
    const json = wl.c.wl_json(answer);
    var returned: i64 = 0;
    var in_stock = false;
    if (!wl.c.wl_json_int(json, "id", &returned) or returned != id) {
        wl.failure(answer, "wrong item returned");
    } else if (!wl.c.wl_json_bool(json, "in_stock", &in_stock) or !in_stock) {
        wl.failure(answer, "out of stock");
    }
}

/// The cart needs the session cookie set at login.
fn cart() wl.Error!void {
    const headers = [_]wl.c.wl_header{.{ .name = "authorization", .value = @ptrCast(&authorization) }};
    const answer = try wl.send(.{ .url = "/cart", .headers = &headers, .header_count = headers.len });
    try wl.expectStatus(answer, 200);
}

comptime {
    wl.exportUsers(&.{.{
        .name = "shopper",
        .tasks = &.{
            wl.task("browse", browse, 3, "browse"),
            wl.task("view item", viewItem, 2, "browse"),
            wl.task("cart", cart, 1, "cart"),
        },
        .wait = waitFromParam,
        .on_start = logIn,
    }});
}
