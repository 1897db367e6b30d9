/* The C SDK's PostgreSQL: connections, statements and rows over the host's
 * `postgres` interface, which records every statement as an event. */

#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- values ------------------------------------------------------------ */

static wl_pg_value value_of(uint8_t tag) {
    wl_pg_value value;
    memset(&value, 0, sizeof value);
    value.tag = tag;
    return value;
}

wl_pg_value wl_pg_null(void) { return value_of(WASMLOAD_USER_POSTGRES_VALUE_NULL); }

wl_pg_value wl_pg_bool(bool given) {
    wl_pg_value value = value_of(WASMLOAD_USER_POSTGRES_VALUE_BOOLEAN);
    value.val.boolean = given;
    return value;
}

wl_pg_value wl_pg_int(int64_t given) {
    wl_pg_value value = value_of(WASMLOAD_USER_POSTGRES_VALUE_INT);
    value.val.int_ = given;
    return value;
}

wl_pg_value wl_pg_float(double given) {
    wl_pg_value value = value_of(WASMLOAD_USER_POSTGRES_VALUE_FLOAT);
    value.val.float_ = given;
    return value;
}

wl_pg_value wl_pg_text(const char *given) {
    wl_pg_value value = value_of(WASMLOAD_USER_POSTGRES_VALUE_TEXT);
    value.val.text = wl__borrow(given);
    return value;
}

wl_pg_value wl_pg_bytes(const void *data, size_t len) {
    wl_pg_value value = value_of(WASMLOAD_USER_POSTGRES_VALUE_BYTES);
    value.val.bytes = wl__borrow_bytes(data, len);
    return value;
}

static bool is(const wl_pg_value *value, uint8_t tag) { return value && value->tag == tag; }

bool wl_pg_is_null(const wl_pg_value *value) { return !value || is(value, WASMLOAD_USER_POSTGRES_VALUE_NULL); }

bool wl_pg_get_bool(const wl_pg_value *value, bool *out) {
    if (!is(value, WASMLOAD_USER_POSTGRES_VALUE_BOOLEAN))
        return false;
    *out = value->val.boolean;
    return true;
}

bool wl_pg_get_int(const wl_pg_value *value, int64_t *out) {
    if (!is(value, WASMLOAD_USER_POSTGRES_VALUE_INT))
        return false;
    *out = value->val.int_;
    return true;
}

bool wl_pg_get_float(const wl_pg_value *value, double *out) {
    if (!is(value, WASMLOAD_USER_POSTGRES_VALUE_FLOAT))
        return false;
    *out = value->val.float_;
    return true;
}

/* Received texts were NUL-terminated when their rows were adopted. */
const char *wl_pg_get_text(const wl_pg_value *value) {
    return is(value, WASMLOAD_USER_POSTGRES_VALUE_TEXT) ? (const char *)value->val.text.ptr : NULL;
}

bool wl_pg_get_bytes(const wl_pg_value *value, wl_bytes *out) {
    if (!is(value, WASMLOAD_USER_POSTGRES_VALUE_BYTES))
        return false;
    out->ptr = value->val.bytes.ptr;
    out->len = value->val.bytes.len;
    return true;
}

/* ---- rows -------------------------------------------------------------- */

struct wl_pg_rows {
    wasmload_user_postgres_rows_t rows;
};

/* Takes over the host's rows until the task returns, texts NUL-terminated. */
static wl_pg_rows *adopt_rows(wasmload_user_postgres_rows_t *received) {
    for (size_t c = 0; c < received->columns.len; c++)
        wl__adopt(&received->columns.ptr[c]);
    wl__keep_list(received->columns.ptr, received->columns.len);
    for (size_t r = 0; r < received->rows.len; r++) {
        wasmload_user_postgres_list_value_t *row = &received->rows.ptr[r];
        for (size_t c = 0; c < row->len; c++) {
            wl_pg_value *value = &row->ptr[c];
            if (value->tag == WASMLOAD_USER_POSTGRES_VALUE_TEXT)
                wl__adopt(&value->val.text);
            else if (value->tag == WASMLOAD_USER_POSTGRES_VALUE_BYTES)
                value->val.bytes.ptr = wl__keep_list(value->val.bytes.ptr, value->val.bytes.len);
        }
        wl__keep_list(row->ptr, row->len);
    }
    wl__keep_list(received->rows.ptr, received->rows.len);
    wl_pg_rows *rows = wl__keep(wl__new(sizeof *rows));
    rows->rows = *received;
    return rows;
}

size_t wl_pg_row_count(const wl_pg_rows *rows) { return rows ? rows->rows.rows.len : 0; }

size_t wl_pg_column_count(const wl_pg_rows *rows) { return rows ? rows->rows.columns.len : 0; }

const char *wl_pg_column_name(const wl_pg_rows *rows, size_t column) {
    return column < wl_pg_column_count(rows) ? (const char *)rows->rows.columns.ptr[column].ptr : NULL;
}

const wl_pg_value *wl_pg_value_at(const wl_pg_rows *rows, size_t row, size_t column) {
    if (row >= wl_pg_row_count(rows) || column >= rows->rows.rows.ptr[row].len)
        return NULL;
    return &rows->rows.rows.ptr[row].ptr[column];
}

/* ---- errors ------------------------------------------------------------ */

static char sqlstate[8];

const char *wl_pg_sqlstate(void) { return sqlstate; }

/* Sets the task's error ("OP: KIND: DETAIL", as the other SDKs word it) and
 * the SQLSTATE; frees the error; returns false. */
static bool failed(const char *op, wasmload_user_postgres_error_t *error) {
    static const char *const kinds[] = {"invalid address", "connect", "timeout", "server",
                                        "conversion",      "too large", "closed"};
    sqlstate[0] = '\0';
    if (error->tag == WASMLOAD_USER_POSTGRES_ERROR_SERVER) {
        user_string_t code = error->val.server.code, message = error->val.server.message;
        size_t code_len = code.len < sizeof sqlstate ? code.len : sizeof sqlstate - 1;
        memcpy(sqlstate, code.ptr, code_len);
        sqlstate[code_len] = '\0';
        wl_fail("%s: server: %s %.*s", op, sqlstate, (int)message.len, (const char *)message.ptr);
    } else {
        bool detailed = error->tag != WASMLOAD_USER_POSTGRES_ERROR_TIMEOUT;
        wl__failed(op, kinds[error->tag], detailed ? &error->val.connect : NULL);
    }
    wasmload_user_postgres_error_free(error);
    return false;
}

/* ---- connections and statements ---------------------------------------- */

struct wl_pg {
    wasmload_user_postgres_own_connection_t handle;
    uint64_t timeout_us;
};

struct wl_pg_statement {
    wasmload_user_postgres_own_statement_t handle;
    uint64_t timeout_us;
    /* The event's name, for errors. */
    char *name;
};

wl_pg *wl_pg_connect(const char *url) {
    user_string_t where = wl__borrow(url ? url : "");
    wasmload_user_postgres_connect_options_t options = {wl__micros(0)};
    wasmload_user_postgres_own_connection_t handle;
    wasmload_user_postgres_error_t error;
    if (!wasmload_user_postgres_static_connection_connect(&where, &options, &handle, &error)) {
        failed("postgres connect", &error);
        return NULL;
    }
    wl_pg *db = wl__new(sizeof *db);
    db->handle = handle;
    return db;
}

void wl_pg_timeout_ms(wl_pg *db, uint64_t ms) { db->timeout_us = ms * 1000; }

static wasmload_user_postgres_borrow_connection_t connection(wl_pg *db) {
    return wasmload_user_postgres_borrow_connection(db->handle);
}

static wasmload_user_postgres_statement_options_t statement_options(wl_pg *db, const char *name) {
    wasmload_user_postgres_statement_options_t options;
    options.name.is_some = name != NULL;
    options.name.val = wl__borrow(name);
    options.timeout_us.is_some = db->timeout_us != 0;
    options.timeout_us.val = db->timeout_us;
    return options;
}

static wasmload_user_postgres_list_value_t parameters(const wl_pg_value *params, size_t count) {
    wasmload_user_postgres_list_value_t list = {(wl_pg_value *)params, count};
    return list;
}

wl_pg_rows *wl_pg_query(wl_pg *db, const char *name, const char *sql, const wl_pg_value *params, size_t count) {
    user_string_t text = wl__borrow(sql);
    wasmload_user_postgres_list_value_t sent = parameters(params, count);
    wasmload_user_postgres_statement_options_t options = statement_options(db, name);
    wasmload_user_postgres_rows_t rows;
    wasmload_user_postgres_error_t error;
    if (!wasmload_user_postgres_method_connection_query(connection(db), &text, &sent, &options, &rows, &error)) {
        failed(name ? name : sql, &error);
        return NULL;
    }
    return adopt_rows(&rows);
}

bool wl_pg_execute(wl_pg *db, const char *name, const char *sql, const wl_pg_value *params, size_t count,
                   uint64_t *affected) {
    user_string_t text = wl__borrow(sql);
    wasmload_user_postgres_list_value_t sent = parameters(params, count);
    wasmload_user_postgres_statement_options_t options = statement_options(db, name);
    uint64_t changed;
    wasmload_user_postgres_error_t error;
    if (!wasmload_user_postgres_method_connection_execute(connection(db), &text, &sent, &options, &changed, &error))
        return failed(name ? name : sql, &error);
    if (affected)
        *affected = changed;
    return true;
}

typedef bool (*transaction_step)(wasmload_user_postgres_borrow_connection_t, wasmload_user_postgres_error_t *);

static bool step(wl_pg *db, transaction_step function, const char *op) {
    wasmload_user_postgres_error_t error;
    return function(connection(db), &error) || failed(op, &error);
}

bool wl_pg_begin(wl_pg *db) { return step(db, wasmload_user_postgres_method_connection_begin, "BEGIN"); }

bool wl_pg_commit(wl_pg *db) { return step(db, wasmload_user_postgres_method_connection_commit, "COMMIT"); }

bool wl_pg_rollback(wl_pg *db) { return step(db, wasmload_user_postgres_method_connection_rollback, "ROLLBACK"); }

void wl_pg_close(wl_pg *db) {
    if (!db)
        return;
    wasmload_user_postgres_connection_drop_own(db->handle);
    free(db);
}

wl_pg_statement *wl_pg_prepare(wl_pg *db, const char *name, const char *sql) {
    user_string_t text = wl__borrow(sql);
    wasmload_user_postgres_statement_options_t options = statement_options(db, name);
    wasmload_user_postgres_own_statement_t handle;
    wasmload_user_postgres_error_t error;
    if (!wasmload_user_postgres_method_connection_prepare(connection(db), &text, &options, &handle, &error)) {
        failed(name ? name : sql, &error);
        return NULL;
    }
    wl_pg_statement *statement = wl__new(sizeof *statement);
    statement->handle = handle;
    statement->timeout_us = db->timeout_us;
    statement->name = strdup(name ? name : sql);
    if (!statement->name)
        abort();
    return statement;
}

static wasmload_user_postgres_borrow_statement_t prepared(wl_pg_statement *statement) {
    return wasmload_user_postgres_borrow_statement(statement->handle);
}

wl_pg_rows *wl_pg_statement_query(wl_pg_statement *statement, const wl_pg_value *params, size_t count) {
    wasmload_user_postgres_list_value_t sent = parameters(params, count);
    wasmload_user_postgres_rows_t rows;
    wasmload_user_postgres_error_t error;
    if (!wasmload_user_postgres_method_statement_query(prepared(statement), &sent,
                                                       wl__timeout_or_null(&statement->timeout_us), &rows, &error)) {
        failed(statement->name, &error);
        return NULL;
    }
    return adopt_rows(&rows);
}

bool wl_pg_statement_execute(wl_pg_statement *statement, const wl_pg_value *params, size_t count,
                             uint64_t *affected) {
    wasmload_user_postgres_list_value_t sent = parameters(params, count);
    uint64_t changed;
    wasmload_user_postgres_error_t error;
    if (!wasmload_user_postgres_method_statement_execute(prepared(statement), &sent,
                                                         wl__timeout_or_null(&statement->timeout_us), &changed,
                                                         &error))
        return failed(statement->name, &error);
    if (affected)
        *affected = changed;
    return true;
}

void wl_pg_statement_close(wl_pg_statement *statement) {
    if (!statement)
        return;
    wasmload_user_postgres_statement_drop_own(statement->handle);
    free(statement->name);
    free(statement);
}
