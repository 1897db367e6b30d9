//! Greets the canonical `helloworld.Greeter` service at `--host` and checks
//! the reply. The two one-field protobuf messages are encoded by hand; the
//! host only carries bytes.

const std = @import("std");
const wl = @import("wasmload");

var name_buffer: [32]u8 = undefined;
var name: []const u8 = "";

/// `message HelloRequest { string name = 1; }` with a name under 128 bytes.
fn encodeHello(buffer: []u8, text: []const u8) []const u8 {
    buffer[0] = 0x0A; // field 1, length-delimited
    buffer[1] = @intCast(text.len);
    @memcpy(buffer[2..][0..text.len], text);
    return buffer[0 .. 2 + text.len];
}

/// `message HelloReply { string message = 1; }`: the message, or null.
fn decodeReply(bytes: []const u8) ?[]const u8 {
    if (bytes.len < 2 or bytes[0] != 0x0A or bytes[1] >= 0x80) return null;
    const len: usize = bytes[1];
    if (bytes.len != 2 + len) return null;
    return bytes[2..];
}

fn start() wl.Error!void {
    name = try wl.print(&name_buffer, "user {d}", .{wl.c.wl_user_id()});
}

fn sayHello() wl.Error!void {
    var request: [64]u8 = undefined;
    const message = encodeHello(&request, name);
    var reply: wl.c.wl_bytes = undefined;
    try wl.check(wl.c.wl_grpc_unary("/helloworld.Greeter/SayHello", message.ptr, message.len, null, &reply));
    const greeting = decodeReply(wl.bytes(reply)) orelse return wl.fail("undecodable reply", .{});
    var expected: [64]u8 = undefined;
    const want = try wl.print(&expected, "Hello {s}", .{name});
    try wl.ensure(std.mem.eql(u8, greeting, want), "unexpected greeting \"{s}\"", .{greeting});
}

comptime {
    wl.exportUsers(&.{.{
        .name = "greeter",
        .tasks = &.{wl.task("say hello", sayHello, 1, null)},
        .on_start = start,
    }});
}
