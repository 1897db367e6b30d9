//! A chatter on a WebSocket echo service: each exchange (a text line, a
//! binary frame, a ping) is one event of type ws, timed by the host. The
//! connection offers the chat.v1 subprotocol and says which user it is in a
//! header.
//!
//! Run with `--host ws://127.0.0.1:8765/chat`; `-e WAIT_MS=...` is the pause
//! after each task (default 100).

const std = @import("std");
const wl = @import("wasmload");

var chat: wl.WebSocket = undefined;

fn waitFromParam() callconv(.c) wl.c.wl_wait {
    return wl.c.wl_constant_ms(std.fmt.parseInt(u64, wl.param("WAIT_MS", "100"), 10) catch 100);
}

fn join() wl.Error!void {
    var user: [24]u8 = undefined;
    const headers = [_]wl.c.wl_header{.{ .name = "x-user", .value = (try wl.print(&user, "{d}", .{wl.c.wl_user_id()})).ptr }};
    const subprotocols = [_][*c]const u8{"chat.v1"};
    chat = try wl.WebSocket.connect(null, .{
        .headers = &headers,
        .header_count = headers.len,
        .subprotocols = &subprotocols,
        .subprotocol_count = subprotocols.len,
    });
    const chosen = chat.subprotocol() orelse "";
    try wl.ensure(std.mem.eql(u8, chosen, "chat.v1"), "no chat.v1 subprotocol", .{});
}

fn say() wl.Error!void {
    var buffer: [48]u8 = undefined;
    const line = try wl.print(&buffer, "hello from user {d}", .{wl.c.wl_user_id()});
    const reply = try chat.request("say", .{ .data = line });
    try wl.ensure(!reply.binary and std.mem.eql(u8, reply.data, line), "the echo differs", .{});
}

fn upload() wl.Error!void {
    var frame: [256]u8 = undefined;
    for (&frame, 0..) |*byte, i| byte.* = @intCast(i);
    const reply = try chat.request("upload", .{ .binary = true, .data = &frame });
    try wl.ensure(reply.binary and std.mem.eql(u8, reply.data, &frame), "the binary echo differs", .{});
}

fn ping() wl.Error!void {
    try chat.ping();
}

fn closeNormally() wl.Error!void {
    try chat.close(1000, "done");
}

comptime {
    wl.exportUsers(&.{.{
        .name = "chatter",
        .tasks = &.{ wl.task("say", say, 3, null), wl.task("upload", upload, 1, null), wl.task("ping", ping, 1, null) },
        .wait = waitFromParam,
        .on_start = join,
        .on_stop = closeNormally,
    }});
}
