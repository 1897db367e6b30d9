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

/// The slice of a C string the SDK returned, or null.
fn span(text: [*c]const u8) ?[]const u8 {
    return if (text == null) null else std.mem.span(@as([*:0]const u8, @ptrCast(text)));
}

/// A PostgreSQL connection; see `wl_pg_connect` and the functions after it.
pub const Postgres = struct {
    db: *c.wl_pg,

    /// Connects to `url` (null: --host): one `postgres` event named `connect`.
    pub fn connect(url: ?[*:0]const u8) Error!Postgres {
        return .{ .db = c.wl_pg_connect(url) orelse return error.Failed };
    }

    /// Runs `sql` ($1, $2, ... for `params`): one event named `name` (null:
    /// the statement's text, literals elided).
    pub fn query(self: Postgres, name: ?[*:0]const u8, sql: [*:0]const u8, params: []const c.wl_pg_value) Error!Rows {
        return .{ .rows = c.wl_pg_query(self.db, name, sql, params.ptr, params.len) orelse return error.Failed };
    }

    /// Runs `sql`; returns the rows it changed.
    pub fn execute(self: Postgres, name: ?[*:0]const u8, sql: [*:0]const u8, params: []const c.wl_pg_value) Error!u64 {
        var affected: u64 = 0;
        try check(c.wl_pg_execute(self.db, name, sql, params.ptr, params.len, &affected));
        return affected;
    }

    /// Prepares `sql` once: one event named `PREPARE name`; its runs are named `name`.
    pub fn prepare(self: Postgres, name: [*:0]const u8, sql: [*:0]const u8) Error!Statement {
        return .{ .statement = c.wl_pg_prepare(self.db, name, sql) orelse return error.Failed };
    }

    pub fn begin(self: Postgres) Error!void {
        return check(c.wl_pg_begin(self.db));
    }

    pub fn commit(self: Postgres) Error!void {
        return check(c.wl_pg_commit(self.db));
    }

    pub fn rollback(self: Postgres) Error!void {
        return check(c.wl_pg_rollback(self.db));
    }

    /// Closes the connection; close its statements first.
    pub fn close(self: Postgres) void {
        c.wl_pg_close(self.db);
    }
};

/// A statement prepared once to run many times.
pub const Statement = struct {
    statement: *c.wl_pg_statement,

    pub fn query(self: Statement, params: []const c.wl_pg_value) Error!Rows {
        return .{ .rows = c.wl_pg_statement_query(self.statement, params.ptr, params.len) orelse return error.Failed };
    }

    /// Runs the statement; returns the rows it changed.
    pub fn execute(self: Statement, params: []const c.wl_pg_value) Error!u64 {
        var affected: u64 = 0;
        try check(c.wl_pg_statement_execute(self.statement, params.ptr, params.len, &affected));
        return affected;
    }

    pub fn close(self: Statement) void {
        c.wl_pg_statement_close(self.statement);
    }
};

/// What a query returned; valid until the task returns.
pub const Rows = struct {
    rows: *c.wl_pg_rows,

    pub fn count(self: Rows) usize {
        return c.wl_pg_row_count(self.rows);
    }

    /// The value in that row and column, or null past the end.
    pub fn value(self: Rows, row: usize, column: usize) ?*const c.wl_pg_value {
        return c.wl_pg_value_at(self.rows, row, column);
    }

    /// A text value (`numeric` as its digits), or null when it is another kind.
    pub fn text(self: Rows, row: usize, column: usize) ?[]const u8 {
        return span(c.wl_pg_get_text(self.value(row, column)));
    }

    /// An integer value, or null when it is another kind.
    pub fn int(self: Rows, row: usize, column: usize) ?i64 {
        var number: i64 = 0;
        return if (c.wl_pg_get_int(self.value(row, column), &number)) number else null;
    }
};

/// A WebSocket message, sent or received; received ones live until the task returns.
pub const WsMessage = struct {
    binary: bool = false,
    data: []const u8,

    fn toC(self: WsMessage) c.wl_ws_message {
        return .{ .binary = self.binary, .data = self.data.ptr, .len = self.data.len };
    }

    fn fromC(message: c.wl_ws_message) WsMessage {
        return .{ .binary = message.binary, .data = bytes(.{ .ptr = message.data, .len = message.len }) };
    }
};

/// A WebSocket connection; see `wl_ws_connect` and the functions after it.
pub const WebSocket = struct {
    socket: *c.wl_ws,

    /// Connects to `url` (ws:// or wss://; null: --host): one `ws` event named `connect`.
    pub fn connect(url: ?[*:0]const u8, options: c.wl_ws_options) Error!WebSocket {
        return .{ .socket = c.wl_ws_connect(url, &options) orelse return error.Failed };
    }

    /// The subprotocol the server chose, or null.
    pub fn subprotocol(self: WebSocket) ?[]const u8 {
        return span(c.wl_ws_subprotocol(self.socket));
    }

    pub fn send(self: WebSocket, message: WsMessage) Error!void {
        return check(c.wl_ws_send(self.socket, message.toC()));
    }

    /// The next text or binary message.
    pub fn receive(self: WebSocket) Error!WsMessage {
        var message: c.wl_ws_message = undefined;
        try check(c.wl_ws_receive(self.socket, &message));
        return WsMessage.fromC(message);
    }

    /// Sends `message` and waits for the next: one event named `name`.
    pub fn request(self: WebSocket, name: [*:0]const u8, message: WsMessage) Error!WsMessage {
        var reply: c.wl_ws_message = undefined;
        try check(c.wl_ws_request(self.socket, name, message.toC(), &reply));
        return WsMessage.fromC(reply);
    }

    /// A ping and its pong: one event named `ping`.
    pub fn ping(self: WebSocket) Error!void {
        return check(c.wl_ws_ping(self.socket));
    }

    /// Closes with `code` (1000: normal) and `reason`.
    pub fn close(self: WebSocket, code: u16, reason: [*:0]const u8) Error!void {
        return check(c.wl_ws_close(self.socket, code, reason));
    }
};

/// A received MQTT message; it lives until the task returns.
pub const MqttMessage = struct {
    topic: []const u8,
    payload: []const u8,
    qos: c.wl_qos,
    retain: bool,
};

/// An MQTT connection; see `wl_mqtt_connect` and the functions after it.
pub const Mqtt = struct {
    broker: *c.wl_mqtt,

    /// Connects to `url` (mqtt:// or mqtts://; null: --host): one `mqtt` event named `connect`.
    pub fn connect(url: ?[*:0]const u8, options: c.wl_mqtt_options) Error!Mqtt {
        return .{ .broker = c.wl_mqtt_connect(url, &options) orelse return error.Failed };
    }

    /// Publishes: one event named `name` (null: the topic), timed to its acknowledgement.
    pub fn publish(self: Mqtt, name: ?[*:0]const u8, topic: [*:0]const u8, payload: []const u8, qos: c.wl_qos) Error!void {
        return check(c.wl_mqtt_publish(self.broker, name, topic, payload.ptr, payload.len, qos));
    }

    /// Subscribes; returns the QoS the broker granted.
    pub fn subscribe(self: Mqtt, filter: [*:0]const u8, qos: c.wl_qos) Error!c.wl_qos {
        var granted: c.wl_qos = undefined;
        try check(c.wl_mqtt_subscribe(self.broker, filter, qos, &granted));
        return granted;
    }

    /// The next message from a subscription.
    pub fn receive(self: Mqtt) Error!MqttMessage {
        var message: c.wl_mqtt_message = undefined;
        try check(c.wl_mqtt_receive(self.broker, &message));
        return .{ .topic = span(message.topic) orelse "", .payload = bytes(message.payload), .qos = message.qos, .retain = message.retain };
    }

    /// Pings the broker: one event named `ping`.
    pub fn ping(self: Mqtt) Error!void {
        return check(c.wl_mqtt_ping(self.broker));
    }

    /// Says goodbye (DISCONNECT) and closes.
    pub fn disconnect(self: Mqtt) Error!void {
        return check(c.wl_mqtt_disconnect(self.broker));
    }
};
