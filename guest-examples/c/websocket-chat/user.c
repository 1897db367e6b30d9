/* A chatter on a WebSocket echo service: each exchange (a text line, a
 * binary frame, a ping) is one event of type ws, timed by the host. The
 * connection offers the chat.v1 subprotocol and says which user it is in a
 * header.
 *
 * Run with `--host ws://127.0.0.1:8765/chat`; `-e WAIT_MS=...` is the pause
 * after each task (default 100). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmload.h"

static wl_ws *chat;

static wl_wait wait_from_param(void) { return wl_constant_ms(strtoull(wl_param_or("WAIT_MS", "100"), NULL, 10)); }

static wl_status join(void) {
    char user[24];
    snprintf(user, sizeof user, "%llu", (unsigned long long)wl_user_id());
    const wl_header headers[] = {{"x-user", user}};
    const char *const subprotocols[] = {"chat.v1"};
    wl_ws_options options = {headers, 1, subprotocols, 1, 0};
    WL_TRY(chat = wl_ws_connect(NULL, &options));
    const char *chosen = wl_ws_subprotocol(chat);
    WL_ENSURE(chosen && strcmp(chosen, "chat.v1") == 0, "no chat.v1 subprotocol");
    return WL_OK;
}

static wl_status say(void) {
    char line[48];
    snprintf(line, sizeof line, "hello from user %llu", (unsigned long long)wl_user_id());
    wl_ws_message reply;
    WL_TRY(wl_ws_request(chat, "say", wl_ws_text(line), &reply));
    WL_ENSURE(!reply.binary && reply.len == strlen(line) && memcmp(reply.data, line, reply.len) == 0,
              "the echo differs");
    return WL_OK;
}

static wl_status upload(void) {
    uint8_t frame[256];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (uint8_t)i;
    wl_ws_message reply;
    WL_TRY(wl_ws_request(chat, "upload", wl_ws_binary(frame, sizeof frame), &reply));
    WL_ENSURE(reply.binary && reply.len == sizeof frame && memcmp(reply.data, frame, sizeof frame) == 0,
              "the binary echo differs");
    return WL_OK;
}

static wl_status ping(void) { return wl_ws_ping(chat) ? WL_OK : WL_ERR; }

static wl_status close_normally(void) { return wl_ws_close(chat, 1000, "done") ? WL_OK : WL_ERR; }

static const wl_task tasks[] = {
    {"say", say, 3},
    {"upload", upload},
    {"ping", ping},
};

WL_USERS({.name = "chatter",
          WL_TASKS(tasks),
          .wait = wait_from_param,
          .on_start = join,
          .on_stop = close_normally});
