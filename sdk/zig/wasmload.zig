//! wasmload's Zig SDK: the C SDK (sdk/c) with Zig errors and formatting.
//!
//!     const wl = @import("wasmload");
//!
//!     fn browse() wl.Error!void {
//!         _ = try wl.get("/items");
//!     }
//!
//!     comptime {
//!         wl.exportUsers(&.{.{ .name = "shopper", .tasks = &.{wl.task("browse", browse, 3, "browse")} }});
//!     }
//!
//! A task fails by returning `error.Failed`; `wl.fail` sets the text the
//! run shows. Every C SDK function is at `wl.c`.

const std = @import("std");

/// The C SDK: `wasmload.h` as `zig translate-c` sees it (build.sh makes it).
pub const c = @import("wasmload_c");

/// The one error a task returns; the text is in the run's "Task errors".
pub const Error = error{Failed};

/// A function a user runs: a task, on-start or on-stop.
pub const Function = fn () Error!void;

fn cFunction(comptime run: Function) *const fn () callconv(.c) c.wl_status {
    return &struct {
        fn call() callconv(.c) c.wl_status {
            run() catch return c.WL_ERR;
            return c.WL_OK;
        }
    }.call;
}

/// A task: its name, function, weight and comma-separated tags.
pub fn task(comptime name: [:0]const u8, comptime run: Function, weight: u32, tags: ?[:0]const u8) c.wl_task {
    return .{ .name = name, .run = cFunction(run), .weight = weight, .tags = if (tags) |t| t.ptr else null };
}

/// A kind of user; unset fields as in the C SDK's `wl_class`.
pub const Class = struct {
    name: [:0]const u8,
    tasks: []const c.wl_task,
    weight: u32 = 1,
    /// Exactly this many users; 0: by weight.
    fixed_count: u32 = 0,
    wait: ?*const fn () callconv(.c) c.wl_wait = null,
    on_start: ?Function = null,
    on_stop: ?Function = null,
};

/// Exports the component's user classes; call it in a `comptime` block.
pub fn exportUsers(comptime classes: []const Class) void {
    const Table = struct {
        const entries = blk: {
            var table: [classes.len]c.wl_class = undefined;
            for (classes, 0..) |class, i| {
                table[i] = .{
                    .name = class.name,
                    .tasks = class.tasks.ptr,
                    .task_count = class.tasks.len,
                    .weight = class.weight,
                    .fixed_count = class.fixed_count,
                    .wait = class.wait,
                    .on_start = if (class.on_start) |f| cFunction(f) else null,
                    .on_stop = if (class.on_stop) |f| cFunction(f) else null,
                };
            }
            break :blk table;
        };
        const first: [*c]const c.wl_class = &entries;
        const count: usize = classes.len;
    };
    @export(&Table.first, .{ .name = "wl_classes" });
    @export(&Table.count, .{ .name = "wl_class_count" });
}

/// Sets the task's error text and returns `error.Failed`.
pub fn fail(comptime format: []const u8, args: anytype) Error {
    var buffer: [1024]u8 = undefined;
    const text = std.mem.printSentinel(&buffer, format, args, 0) catch "(error text too long)";
    _ = c.wl_fail("%s", text.ptr);
    return error.Failed;
}

/// `error.Failed` unless `ok`; for C SDK calls, which set the text themselves.
pub fn check(ok: bool) Error!void {
    if (!ok) return error.Failed;
}

/// `error.Failed`, with the text, unless `condition` holds.
pub fn ensure(condition: bool, comptime format: []const u8, args: anytype) Error!void {
    if (!condition) return fail(format, args);
}

/// Formats into `buffer` as a C string, for URLs and payloads.
pub fn print(buffer: []u8, comptime format: []const u8, args: anytype) Error![:0]u8 {
    return std.mem.printSentinel(buffer, format, args, 0) catch fail("text longer than {d} bytes", .{buffer.len});
}

/// The response, or `error.Failed` when none came.
pub fn response(sent: ?*c.wl_response) Error!*c.wl_response {
    return sent orelse error.Failed;
}

/// Sends a request; see `wl_request` for the fields.
pub fn send(request: c.wl_request) Error!*c.wl_response {
    return response(c.wl_send(&request));
}

/// A GET request.
pub fn get(url: [*:0]const u8) Error!*c.wl_response {
    return response(c.wl_get(url));
}

/// A POST of a JSON text.
pub fn postJson(url: [*:0]const u8, json: [*:0]const u8) Error!*c.wl_response {
    return response(c.wl_post_json(url, json));
}

/// A JSON request (Locust's RestUser); see `wl_rest`.
pub fn rest(request: c.wl_request) Error!*c.wl_response {
    return response(c.wl_rest(&request));
}

/// `error.Failed`, with the request failed, unless the status is `status`.
pub fn expectStatus(sent: *c.wl_response, status: u16) Error!void {
    return check(c.wl_expect_status(sent, status));
}

/// Records the request as a failure with this reason.
pub fn failure(sent: *c.wl_response, reason: [*:0]const u8) void {
    c.wl_failure(sent, "%s", reason);
}

/// The `-e KEY=VALUE` parameter, or `fallback`.
pub fn param(key: [*:0]const u8, fallback: [:0]const u8) [:0]const u8 {
    const value = c.wl_param(key) orelse return fallback;
    return std.mem.span(value);
}

/// The bytes the host returned, as a slice.
pub fn bytes(value: c.wl_bytes) []const u8 {
    return if (value.len == 0) &.{} else value.ptr[0..value.len];
}
