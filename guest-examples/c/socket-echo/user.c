/* Talks to echo servers over TCP and UDP with the request helpers, which
 * the host times as one event per exchange.
 *
 * Parameters: `-e TCP=host:port -e UDP=host:port`. */

#include <stdio.h>
#include <string.h>

#include "wasmload.h"

static wl_tcp *tcp;
static wl_udp *udp;

static wl_status connect_both(void) {
    const char *tcp_address = wl_param("TCP"), *udp_address = wl_param("UDP");
    WL_ENSURE(tcp_address && udp_address, "set -e TCP=host:port -e UDP=host:port");
    WL_TRY(tcp = wl_tcp_connect(tcp_address, false));
    WL_TRY(udp = wl_udp_connect(udp_address));
    return WL_OK;
}

static wl_status tcp_line(void) {
    char line[64];
    snprintf(line, sizeof line, "hello from user %llu\n", (unsigned long long)wl_user_id());
    wl_bytes echoed;
    WL_TRY(wl_tcp_request(tcp, "echo line", line, strlen(line), "\n", &echoed));
    WL_ENSURE(wl_bytes_equal(echoed, line, strlen(line)), "TCP echo differs");
    return WL_OK;
}

static wl_status udp_datagram(void) {
    wl_bytes echoed;
    WL_TRY(wl_udp_request(udp, "echo datagram", "ping", 4, &echoed));
    WL_ENSURE(wl_bytes_equal(echoed, "ping", 4), "UDP echo differs");
    return WL_OK;
}

static wl_status close_both(void) {
    wl_tcp_close(tcp);
    wl_udp_close(udp);
    return WL_OK;
}

static const wl_task tasks[] = {
    {"tcp line", tcp_line},
    {"udp datagram", udp_datagram},
};

WL_USERS({.name = "echoer", WL_TASKS(tasks), .on_start = connect_both, .on_stop = close_both});
