/* Greets the canonical `helloworld.Greeter` service at `--host` and checks
 * the reply. The one-field protobuf messages are encoded by hand; the host
 * only carries bytes. */

#include <stdio.h>
#include <string.h>

#include "wasmload.h"

static char name[32];

static wl_status start(void) {
    snprintf(name, sizeof name, "user %llu", (unsigned long long)wl_user_id());
    return WL_OK;
}

static wl_status say_hello(void) {
    /* message HelloRequest { string name = 1; } */
    unsigned char request[64] = {0x0A, (unsigned char)strlen(name)};
    memcpy(request + 2, name, strlen(name));
    wl_bytes reply;
    WL_TRY(wl_grpc_unary("/helloworld.Greeter/SayHello", request, 2 + strlen(name), NULL, &reply));
    /* message HelloReply { string message = 1; } */
    char expected[64];
    int expected_len = snprintf(expected, sizeof expected, "Hello %s", name);
    WL_ENSURE(reply.len == (size_t)expected_len + 2 && reply.ptr[0] == 0x0A && reply.ptr[1] == expected_len &&
                  memcmp(reply.ptr + 2, expected, (size_t)expected_len) == 0,
              "unexpected greeting");
    return WL_OK;
}

static const wl_task tasks[] = {{"say hello", say_hello}};

WL_USERS({.name = "greeter", WL_TASKS(tasks), .on_start = start});
