/* The C SDK's MQTT connections over the host's `mqtt` interface, which
 * records connecting, each publish, subscribe and ping as events. */

#include "internal.h"

#include <stdlib.h>

struct wl_mqtt {
    wasmload_user_mqtt_own_connection_t handle;
    uint64_t timeout_us;
};

/* Sets the task's error, frees the host's error, returns false. */
static bool failed(const char *op, wasmload_user_mqtt_error_t *error) {
    static const char *const kinds[] = {"invalid address", "connect",   "refused", "timeout",
                                        "closed",          "too large", "protocol"};
    bool detailed = error->tag != WASMLOAD_USER_MQTT_ERROR_TIMEOUT;
    wl__failed(op, kinds[error->tag], detailed ? &error->val.connect : NULL);
    wasmload_user_mqtt_error_free(error);
    return false;
}

wl_mqtt *wl_mqtt_connect(const char *url, const wl_mqtt_options *given) {
    static const wl_mqtt_options defaults;
    const wl_mqtt_options *options = given ? given : &defaults;
    wasmload_user_mqtt_connect_options_t sent;
    sent.client_id.is_some = options->client_id != NULL;
    sent.client_id.val = wl__borrow(options->client_id);
    sent.keep_alive_s = options->keep_alive_s;
    sent.clean_session = !options->persistent_session;
    sent.timeout_us = wl__micros(options->timeout_ms);
    user_string_t where = wl__borrow(url ? url : "");
    wasmload_user_mqtt_own_connection_t handle;
    wasmload_user_mqtt_error_t error;
    if (!wasmload_user_mqtt_static_connection_connect(&where, &sent, &handle, &error)) {
        failed("mqtt connect", &error);
        return NULL;
    }
    wl_mqtt *broker = wl__new(sizeof *broker);
    broker->handle = handle;
    broker->timeout_us = options->timeout_ms * 1000;
    return broker;
}

static wasmload_user_mqtt_borrow_connection_t connection(wl_mqtt *broker) {
    return wasmload_user_mqtt_borrow_connection(broker->handle);
}

bool wl_mqtt_publish(wl_mqtt *broker, const char *name, const char *topic, const void *payload, size_t len,
                     wl_qos qos) {
    user_string_t event = wl__borrow(name);
    wasmload_user_mqtt_message_t message = {wl__borrow(topic), wl__borrow_bytes(payload, len), qos, false};
    wasmload_user_mqtt_error_t error;
    return wasmload_user_mqtt_method_connection_publish(connection(broker), name ? &event : NULL, &message,
                                                        wl__timeout_or_null(&broker->timeout_us), &error) ||
           failed(name ? name : topic, &error);
}

bool wl_mqtt_subscribe(wl_mqtt *broker, const char *filter, wl_qos qos, wl_qos *granted) {
    user_string_t topics = wl__borrow(filter);
    wasmload_user_mqtt_qos_t given;
    wasmload_user_mqtt_error_t error;
    if (!wasmload_user_mqtt_method_connection_subscribe(connection(broker), &topics, qos,
                                                        wl__timeout_or_null(&broker->timeout_us), &given, &error))
        return failed("mqtt subscribe", &error);
    if (granted)
        *granted = (wl_qos)given;
    return true;
}

bool wl_mqtt_receive(wl_mqtt *broker, wl_mqtt_message *out) {
    wasmload_user_mqtt_message_t received;
    wasmload_user_mqtt_error_t error;
    if (!wasmload_user_mqtt_method_connection_receive(connection(broker), wl__timeout_or_null(&broker->timeout_us),
                                                      &received, &error))
        return failed("mqtt receive", &error);
    out->topic = wl__adopt(&received.topic);
    out->payload = wl__adopt_bytes(&received.payload);
    out->qos = (wl_qos)received.qos;
    out->retain = received.retain;
    return true;
}

bool wl_mqtt_ping(wl_mqtt *broker) {
    wasmload_user_mqtt_error_t error;
    return wasmload_user_mqtt_method_connection_ping(connection(broker), wl__timeout_or_null(&broker->timeout_us),
                                                     &error) ||
           failed("mqtt ping", &error);
}

bool wl_mqtt_disconnect(wl_mqtt *broker) {
    if (!broker)
        return true;
    wasmload_user_mqtt_error_t error;
    bool said_goodbye = wasmload_user_mqtt_method_connection_disconnect(connection(broker), &error) ||
                        failed("mqtt disconnect", &error);
    wasmload_user_mqtt_connection_drop_own(broker->handle);
    free(broker);
    return said_goodbye;
}
