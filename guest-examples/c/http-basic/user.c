/* A shopper of the demo shop (`demo-target`): logs in once, then browses
 * pages, views items (checking what comes back) and opens the cart.
 *
 * Parameters: `-e WAIT_MS=min-max` (default 500-1500). */

#include <stdio.h>
#include <stdlib.h>

#include "wasmload.h"

static char authorization[300];

static wl_wait wait_from_param(void) {
    const char *range = wl_param_or("WAIT_MS", "500-1500");
    char *dash;
    unsigned long low = strtoul(range, &dash, 10);
    unsigned long high = *dash == '-' ? strtoul(dash + 1, NULL, 10) : low;
    return wl_between_ms(low, high);
}

static wl_status log_in(void) {
    char login[128], token[256];
    snprintf(login, sizeof login, "{\"username\":\"user%llu\",\"password\":\"secret\"}",
             (unsigned long long)wl_user_id());
    wl_response *response = wl_post_json("/login", login);
    WL_TRY(response && wl_expect_status(response, 200));
    WL_ENSURE(wl_json_string(wl_body(response), "token", token, sizeof token), "login answered without a token");
    snprintf(authorization, sizeof authorization, "Bearer %s", token);
    return WL_OK;
}

/* A page of the catalogue; every page is grouped under `/items`. */
static wl_status browse(void) {
    char url[64];
    snprintf(url, sizeof url, "/items?page=%llu", (unsigned long long)wl_random_range(1, 6));
    WL_TRY(wl_get(url));
    return WL_OK;
}

/* One item, checked: the right id, and in stock (else a failure). */
static wl_status view_item(void) {
    int64_t id = (int64_t)wl_random_range(1, 1001), returned;
    bool in_stock;
    char url[64];
    snprintf(url, sizeof url, "/items/%lld", (long long)id);
    wl_response *response = WL_REST(.url = url, .name = "/items/[id]");
    WL_TRY(response);
    if (!wl_json_int(wl_json(response), "id", &returned) || returned != id)
        wl_failure(response, "wrong item returned");
    else if (!wl_json_bool(wl_json(response), "in_stock", &in_stock) || !in_stock)
        wl_failure(response, "out of stock");
    return WL_OK;
}

/* The cart needs the session cookie set at login. */
static wl_status cart(void) {
    wl_header headers[] = {{"authorization", authorization}};
    wl_response *response = WL_HTTP(.url = "/cart", .headers = headers, .header_count = 1);
    WL_TRY(response && wl_expect_status(response, 200));
    return WL_OK;
}

static const wl_task tasks[] = {
    {"browse", browse, 3, "browse"},
    {"view item", view_item, 2, "browse"},
    {"cart", cart, 1, "cart"},
};

WL_USERS({.name = "shopper", WL_TASKS(tasks), .wait = wait_from_param, .on_start = log_in});
