/* A sensor on an MQTT broker: readings at QoS 0, alarms at QoS 1, audit
 * records at QoS 2, each publish one event timed to its acknowledgement;
 * and a command it sends to its own topic and waits to receive, the round
 * trip timed as a custom event.
 *
 * Run with `--host mqtt://127.0.0.1:1883`; `-e WAIT_MS=...` is the pause
 * after each task (default 100). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmload.h"

static wl_mqtt *broker;
static char commands[32];

static wl_wait wait_from_param(void) { return wl_constant_ms(strtoull(wl_param_or("WAIT_MS", "100"), NULL, 10)); }

static wl_status connect_to_broker(void) {
    WL_TRY(broker = wl_mqtt_connect(NULL, NULL));
    snprintf(commands, sizeof commands, "commands/%llu", (unsigned long long)wl_user_id());
    wl_qos granted;
    WL_TRY(wl_mqtt_subscribe(broker, commands, WL_QOS_AT_LEAST_ONCE, &granted));
    WL_ENSURE(granted == WL_QOS_AT_LEAST_ONCE, "the broker granted another QoS");
    return WL_OK;
}

static wl_status disconnect(void) { return wl_mqtt_disconnect(broker) ? WL_OK : WL_ERR; }

static wl_status publish(const char *topic, const char *payload, wl_qos qos) {
    return wl_mqtt_publish(broker, NULL, topic, payload, strlen(payload), qos) ? WL_OK : WL_ERR;
}

static wl_status reading(void) {
    char value[16];
    snprintf(value, sizeof value, "%llu.%llu", 15 + (unsigned long long)wl_random_range(0, 10),
             (unsigned long long)wl_random_range(0, 10));
    return publish("sensors/temperature", value, WL_QOS_AT_MOST_ONCE);
}

static wl_status alarm(void) { return publish("sensors/alarm", "door open", WL_QOS_AT_LEAST_ONCE); }

static wl_status audit(void) { return publish("sensors/audit", "checked", WL_QOS_EXACTLY_ONCE); }

static wl_status command(void) {
    wl_timer round_trip = wl_timer_start("mqtt", "command round trip");
    wl_mqtt_message received;
    if (!wl_mqtt_publish(broker, "command", commands, "calibrate", 9, WL_QOS_AT_LEAST_ONCE) ||
        !wl_mqtt_receive(broker, &received)) {
        wl_timer_failure(round_trip, wl_error());
        return WL_ERR;
    }
    if (!wl_bytes_equal(received.payload, "calibrate", 9)) {
        wl_timer_failure(round_trip, "another command came back");
        return wl_fail("another command came back");
    }
    wl_timer_success(round_trip, received.payload.len);
    return WL_OK;
}

static const wl_task tasks[] = {
    {"reading", reading, 4},
    {"alarm", alarm, 2},
    {"audit", audit},
    {"command", command},
};

WL_USERS({.name = "sensor",
          WL_TASKS(tasks),
          .wait = wait_from_param,
          .on_start = connect_to_broker,
          .on_stop = disconnect});
