//! A sensor on an MQTT broker: readings at QoS 0, alarms at QoS 1, audit
//! records at QoS 2, each publish one event timed to its acknowledgement;
//! and a command it sends to its own topic and waits to receive, the round
//! trip timed as a custom event.
//!
//! Run with `--host mqtt://127.0.0.1:1883`; `-e WAIT_MS=...` is the pause
//! after each task (default 100).

const std = @import("std");
const wl = @import("wasmload");

var broker: wl.Mqtt = undefined;
var commands_buffer: [32]u8 = undefined;
var commands: [:0]const u8 = "";

fn waitFromParam() callconv(.c) wl.c.wl_wait {
    return wl.c.wl_constant_ms(std.fmt.parseInt(u64, wl.param("WAIT_MS", "100"), 10) catch 100);
}

fn connectToBroker() wl.Error!void {
    broker = try wl.Mqtt.connect(null, .{});
    commands = try wl.print(&commands_buffer, "commands/{d}", .{wl.c.wl_user_id()});
    const granted = try broker.subscribe(commands, wl.c.WL_QOS_AT_LEAST_ONCE);
    try wl.ensure(granted == wl.c.WL_QOS_AT_LEAST_ONCE, "the broker granted another QoS", .{});
}

fn disconnect() wl.Error!void {
    try broker.disconnect();
}

fn reading() wl.Error!void {
    var buffer: [16]u8 = undefined;
    const value = try wl.print(&buffer, "{d}.{d}", .{ 15 + wl.c.wl_random_range(0, 10), wl.c.wl_random_range(0, 10) });
    try broker.publish(null, "sensors/temperature", value, wl.c.WL_QOS_AT_MOST_ONCE);
}

fn alarm() wl.Error!void {
    try broker.publish(null, "sensors/alarm", "door open", wl.c.WL_QOS_AT_LEAST_ONCE);
}

fn audit() wl.Error!void {
    try broker.publish(null, "sensors/audit", "checked", wl.c.WL_QOS_EXACTLY_ONCE);
}

fn sendCommand() wl.Error!usize {
    try broker.publish("command", commands, "calibrate", wl.c.WL_QOS_AT_LEAST_ONCE);
    const received = try broker.receive();
    try wl.ensure(std.mem.eql(u8, received.payload, "calibrate"), "another command came back", .{});
    return received.payload.len;
}

fn command() wl.Error!void {
    const round_trip = wl.c.wl_timer_start("mqtt", "command round trip");
    const length = sendCommand() catch |failed| {
        wl.c.wl_timer_failure(round_trip, wl.c.wl_error());
        return failed;
    };
    wl.c.wl_timer_success(round_trip, length);
}

comptime {
    wl.exportUsers(&.{.{
        .name = "sensor",
        .tasks = &.{
            wl.task("reading", reading, 4, null),
            wl.task("alarm", alarm, 2, null),
            wl.task("audit", audit, 1, null),
            wl.task("command", command, 1, null),
        },
        .wait = waitFromParam,
        .on_start = connectToBroker,
        .on_stop = disconnect,
    }});
}
