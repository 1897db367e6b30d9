/* A shopper in a PostgreSQL shop: looks items up with a prepared statement
 * and buys them in transactions. Every statement is an event of type
 * postgres, recorded by the host; an item out of stock is the server's
 * check violation (SQLSTATE 23514), and the buy is rolled back.
 *
 * Create the shop with guest-examples/rust/postgres-shop/schema.sql, then
 * run with `--host postgres://user@127.0.0.1:5432/shop`; `-e WAIT_MS=N` sets
 * the pause after each task (default 100). */

#include <stdlib.h>
#include <string.h>

#include "wasmload.h"

/* Items in the shop (schema.sql). */
#define ITEMS 10

static wl_pg *db;
static wl_pg_statement *item_by_id;

static wl_wait wait_from_param(void) { return wl_constant_ms(strtoull(wl_param_or("WAIT_MS", "100"), NULL, 10)); }

static wl_pg_value random_item(void) { return wl_pg_int((int64_t)wl_random_range(1, ITEMS + 1)); }

static wl_status open_shop(void) {
    WL_TRY(db = wl_pg_connect(NULL));
    WL_TRY(item_by_id = wl_pg_prepare(db, "item by id", "SELECT name, price, stock FROM items WHERE id = $1"));
    return WL_OK;
}

static wl_status browse(void) {
    wl_pg_rows *rows = wl_pg_statement_query(item_by_id, WL_PG_PARAMS(random_item()));
    WL_TRY(rows);
    WL_ENSURE(wl_pg_row_count(rows) == 1, "%zu items with one id", wl_pg_row_count(rows));
    const char *name = wl_pg_get_text(wl_pg_value_at(rows, 0, 0));
    const char *price = wl_pg_get_text(wl_pg_value_at(rows, 0, 1));
    WL_ENSURE(name && strncmp(name, "item ", 5) == 0, "item has no name");
    /* numeric arrives as its digits. */
    WL_ENSURE(price && strchr(price, '.'), "price is not numeric");
    return WL_OK;
}

static wl_status buy(void) {
    wl_pg_value item = random_item();
    WL_TRY(wl_pg_begin(db));
    bool bought =
        wl_pg_execute(db, "reserve", "UPDATE items SET stock = stock - 1 WHERE id = $1", WL_PG_PARAMS(item), NULL) &&
        wl_pg_execute(db, "order", "INSERT INTO orders (item_id, user_id) VALUES ($1, $2)",
                      WL_PG_PARAMS(item, wl_pg_int((int64_t)wl_user_id())), NULL) &&
        wl_pg_commit(db);
    if (!bought) {
        /* The task fails with the statement's error; the rollback leaves
         * the connection fit for the next task. */
        wl_pg_rollback(db);
        return WL_ERR;
    }
    return WL_OK;
}

static wl_status disconnect(void) {
    wl_pg_statement_close(item_by_id);
    wl_pg_close(db);
    return WL_OK;
}

static const wl_task tasks[] = {
    {"browse", browse, 3},
    {"buy", buy},
};

WL_USERS({.name = "shopper",
          WL_TASKS(tasks),
          .wait = wait_from_param,
          .on_start = open_shop,
          .on_stop = disconnect});
