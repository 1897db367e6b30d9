/* The C SDK's WebSocket connections over the host's `websocket` interface,
 * which records the handshake and every timed exchange as events. */

#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct wl_ws {
    wasmload_user_websocket_own_connection_t handle;
    uint64_t timeout_us;
};

wl_ws_message wl_ws_text(const char *text) {
    wl_ws_message message = {false, (const uint8_t *)text, text ? strlen(text) : 0};
    return message;
}

wl_ws_message wl_ws_binary(const void *data, size_t len) {
    wl_ws_message message = {true, data, len};
    return message;
}

/* Sets the task's error, frees the host's error, returns false. */
static bool failed(const char *op, wasmload_user_websocket_error_t *error) {
    static const char *const kinds[] = {"invalid address", "connect", "timeout", "closed", "too large", "protocol"};
    bool detailed = error->tag != WASMLOAD_USER_WEBSOCKET_ERROR_TIMEOUT;
    wl__failed(op, kinds[error->tag], detailed ? &error->val.connect : NULL);
    wasmload_user_websocket_error_free(error);
    return false;
}

wl_ws *wl_ws_connect(const char *url, const wl_ws_options *given) {
    static const wl_ws_options defaults;
    const wl_ws_options *options = given ? given : &defaults;
    user_tuple2_string_string_t headers[options->header_count + 1];
    for (size_t i = 0; i < options->header_count; i++) {
        headers[i].f0 = wl__borrow(options->headers[i].name);
        headers[i].f1 = wl__borrow(options->headers[i].value);
    }
    user_string_t subprotocols[options->subprotocol_count + 1];
    for (size_t i = 0; i < options->subprotocol_count; i++)
        subprotocols[i] = wl__borrow(options->subprotocols[i]);
    wasmload_user_websocket_connect_options_t sent;
    sent.headers.ptr = headers;
    sent.headers.len = options->header_count;
    sent.subprotocols.ptr = subprotocols;
    sent.subprotocols.len = options->subprotocol_count;
    sent.timeout_us = wl__micros(options->timeout_ms);
    user_string_t where = wl__borrow(url ? url : "");
    wasmload_user_websocket_own_connection_t handle;
    wasmload_user_websocket_error_t error;
    if (!wasmload_user_websocket_static_connection_connect(&where, &sent, &handle, &error)) {
        failed("ws connect", &error);
        return NULL;
    }
    wl_ws *socket = wl__new(sizeof *socket);
    socket->handle = handle;
    socket->timeout_us = options->timeout_ms * 1000;
    return socket;
}

static wasmload_user_websocket_borrow_connection_t connection(wl_ws *socket) {
    return wasmload_user_websocket_borrow_connection(socket->handle);
}

const char *wl_ws_subprotocol(wl_ws *socket) {
    user_string_t chosen;
    return wasmload_user_websocket_method_connection_subprotocol(connection(socket), &chosen) ? wl__adopt(&chosen)
                                                                                               : NULL;
}

static wasmload_user_websocket_message_t outgoing(wl_ws_message message) {
    wasmload_user_websocket_message_t sent;
    sent.tag = message.binary ? WASMLOAD_USER_WEBSOCKET_MESSAGE_BINARY : WASMLOAD_USER_WEBSOCKET_MESSAGE_TEXT;
    sent.val.binary = wl__borrow_bytes(message.data, message.len);
    return sent;
}

/* Takes over a received message until the task returns; text NUL-terminated. */
static wl_ws_message incoming(wasmload_user_websocket_message_t *received) {
    wl_ws_message message;
    message.binary = received->tag == WASMLOAD_USER_WEBSOCKET_MESSAGE_BINARY;
    if (message.binary) {
        wl_bytes bytes = wl__adopt_bytes(&received->val.binary);
        message.data = bytes.ptr;
    } else {
        message.data = (const uint8_t *)wl__adopt(&received->val.text);
    }
    message.len = received->val.binary.len;
    return message;
}

bool wl_ws_send(wl_ws *socket, wl_ws_message message) {
    wasmload_user_websocket_message_t sent = outgoing(message);
    wasmload_user_websocket_error_t error;
    return wasmload_user_websocket_method_connection_send(connection(socket), &sent, &error) ||
           failed("ws send", &error);
}

bool wl_ws_receive(wl_ws *socket, wl_ws_message *out) {
    wasmload_user_websocket_message_t received;
    wasmload_user_websocket_error_t error;
    if (!wasmload_user_websocket_method_connection_receive(connection(socket), wl__timeout_or_null(&socket->timeout_us),
                                                           &received, &error))
        return failed("ws receive", &error);
    *out = incoming(&received);
    return true;
}

bool wl_ws_request(wl_ws *socket, const char *name, wl_ws_message message, wl_ws_message *reply) {
    user_string_t event = wl__borrow(name);
    wasmload_user_websocket_message_t sent = outgoing(message), received;
    wasmload_user_websocket_error_t error;
    if (!wasmload_user_websocket_method_connection_request(connection(socket), &event, &sent,
                                                           wl__timeout_or_null(&socket->timeout_us), &received,
                                                           &error))
        return failed(name, &error);
    *reply = incoming(&received);
    return true;
}

bool wl_ws_ping(wl_ws *socket) {
    wasmload_user_websocket_error_t error;
    return wasmload_user_websocket_method_connection_ping(connection(socket), wl__timeout_or_null(&socket->timeout_us),
                                                          &error) ||
           failed("ws ping", &error);
}

bool wl_ws_close(wl_ws *socket, uint16_t code, const char *reason) {
    if (!socket)
        return true;
    user_string_t text = wl__borrow(reason ? reason : "");
    wasmload_user_websocket_error_t error;
    bool closed = wasmload_user_websocket_method_connection_close(connection(socket), code, &text, &error) ||
                  failed("ws close", &error);
    wasmload_user_websocket_connection_drop_own(socket->handle);
    free(socket);
    return closed;
}
