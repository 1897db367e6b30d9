/* wasmload's C SDK: write one virtual user in C (or Zig: sdk/zig wraps it).
 *
 *     #include "wasmload.h"
 *
 *     static wl_status browse(void) {
 *         wl_response *page = wl_get("/items");
 *         WL_TRY(page);
 *         return WL_OK;
 *     }
 *
 *     static const wl_task tasks[] = {{"browse", browse, 3, "browse"}};
 *     WL_USERS({.name = "shopper", WL_TASKS(tasks)});
 *
 * Conventions: a function that can fail returns NULL or false and sets the
 * task's error (`wl_fail`); the task then returns WL_ERR and the run shows
 * that text under "Task errors". Every buffer the SDK hands out (responses,
 * bytes, parameters) lives until the current task, on-start or on-stop
 * returns; never free them. Connections live until closed or the user ends.
 */
#ifndef WASMLOAD_H
#define WASMLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- results and errors ---------------------------------------------- */

/** What a task, on-start or on-stop returns. */
typedef int wl_status;
#define WL_OK 0
#define WL_ERR 1

/** Sets the task's error (printf-style) and returns WL_ERR. */
wl_status wl_fail(const char *format, ...) __attribute__((format(printf, 1, 2)));
/** The task's error so far, or "" when none. */
const char *wl_error(void);
/** Returns WL_ERR from the calling function when `value` is NULL or false. */
#define WL_TRY(value)          \
    do {                       \
        if (!(value))          \
            return WL_ERR;     \
    } while (0)
/** Returns WL_ERR, with the message, when `condition` is false. */
#define WL_ENSURE(condition, ...)          \
    do {                                   \
        if (!(condition))                  \
            return wl_fail(__VA_ARGS__);   \
    } while (0)

/* ---- users, tasks and waits ------------------------------------------- */

/** One task: its name, function, weight (0 means 1) and comma-separated tags. */
typedef struct {
    const char *name;
    wl_status (*run)(void);
    uint32_t weight;
    const char *tags;
} wl_task;

/** How long a user waits after each task; make one with the functions below. */
typedef exports_wasmload_user_behaviour_wait_time_t wl_wait;
wl_wait wl_no_wait(void);
wl_wait wl_constant_ms(uint64_t ms);
wl_wait wl_between_ms(uint64_t min_ms, uint64_t max_ms);
/** Start a task at most once per `ms` (Locust's constant_pacing). */
wl_wait wl_pacing_ms(uint64_t ms);
/** At most this many tasks a second (Locust's constant_throughput). */
wl_wait wl_throughput(double tasks_per_second);

/** A kind of user. Unset fields: weight 1, not a fixed count, no wait. */
typedef struct {
    const char *name;
    const wl_task *tasks;
    size_t task_count;
    uint32_t weight;
    /** Exactly this many users (Locust's fixed_count); 0: by weight. */
    uint32_t fixed_count;
    /** Called when the run starts, so it may read `-e` parameters. */
    wl_wait (*wait)(void);
    wl_status (*on_start)(void);
    wl_status (*on_stop)(void);
} wl_class;

/** `.tasks` and `.task_count` from an array of wl_task. */
#define WL_TASKS(array) .tasks = (array), .task_count = sizeof(array) / sizeof((array)[0])

extern const wl_class *const wl_classes;
extern const size_t wl_class_count;

/** Declares the component's user classes (one or more wl_class). */
#define WL_USERS(...)                                                         \
    static const wl_class wl_declared_classes[] = {__VA_ARGS__};              \
    const wl_class *const wl_classes = wl_declared_classes;                   \
    const size_t wl_class_count = sizeof(wl_declared_classes) / sizeof(wl_class)

/** The load a shape asks for; see WL_SHAPE. */
typedef exports_wasmload_user_behaviour_load_target_t wl_load;
wl_load wl_load_users(uint32_t users, double spawn_rate);
wl_load wl_load_rate(double iterations_per_second);
wl_load wl_load_stop(void);
/** "No change" (and, as the first answer, "no shape"). */
wl_load wl_load_unchanged(void);
/** The load shape: by default none; WL_SHAPE replaces it. */
wl_load wl_shape(double run_time_s);
/** Declares `function(double run_time_s) -> wl_load` as the load shape. */
#define WL_SHAPE(function) \
    wl_load wl_shape(double run_time_s) { return function(run_time_s); }

/* ---- context ----------------------------------------------------------- */

typedef enum { WL_DEBUG, WL_INFO, WL_WARN, WL_ERROR } wl_level;

uint64_t wl_user_id(void);
void wl_sleep_ms(uint64_t ms);
/** Milliseconds since the run started. */
double wl_now_ms(void);
uint64_t wl_random(void);
/** A random number in [low, high). */
uint64_t wl_random_range(uint64_t low, uint64_t high);
/** The `-e KEY=VALUE` parameter, or NULL. */
const char *wl_param(const char *key);
const char *wl_param_or(const char *key, const char *fallback);
/** The run's --host, or NULL. */
const char *wl_host(void);
void wl_log(wl_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* ---- HTTP ------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *value;
} wl_header;

/** A request; unset fields take the defaults (GET, no body, `--timeout`). */
typedef struct {
    const char *method;
    /** Absolute, or a path under --host. */
    const char *url;
    const wl_header *headers;
    size_t header_count;
    /** `body_len` 0 with a body: the body is a NUL-terminated string. */
    const void *body;
    size_t body_len;
    /** Groups the event in the stats (default: the URL's path). */
    const char *name;
    uint64_t timeout_ms;
    bool no_redirects;
} wl_request;

/** A received response; unjudged, a status of 400 or more is a failure. */
typedef struct wl_response wl_response;

/** Sends a request; NULL when no response came (the task's error is set). */
wl_response *wl_send(const wl_request *request);
/** `wl_send` of a request written inline: WL_HTTP(.url = "/", .name = "home"). */
#define WL_HTTP(...) wl_send(&(wl_request){__VA_ARGS__})
wl_response *wl_get(const char *url);
wl_response *wl_post_json(const char *url, const char *json);

uint16_t wl_status_code(const wl_response *response);
/** The body, NUL-terminated; its length in `wl_body_len`. */
const char *wl_body(const wl_response *response);
size_t wl_body_len(const wl_response *response);
/** The first header with this name, or NULL. */
const char *wl_header_value(const wl_response *response, const char *name);
/** Time from sending the request to the end of the body, in milliseconds. */
double wl_elapsed_ms(const wl_response *response);
/** Records the request as a success, whatever the status. */
void wl_success(wl_response *response);
/** Records the request as a failure with this reason (printf-style). */
void wl_failure(wl_response *response, const char *format, ...) __attribute__((format(printf, 2, 3)));
/** False, with the request failed and the task's error set, unless the status is `status`. */
bool wl_expect_status(wl_response *response, uint16_t status);

/** A JSON request (Locust's RestUser): JSON headers unless given; a body
 * that is not JSON fails the request, and its `wl_json` is NULL. NULL only
 * when no response came. */
wl_response *wl_rest(const wl_request *request);
#define WL_REST(...) wl_rest(&(wl_request){__VA_ARGS__})
/** The parsed body of a `wl_rest` response, or NULL when it was not JSON. */
const char *wl_json(const wl_response *response);

/* ---- JSON lookups: `path` is keys separated by dots ("item.id") ------- */

bool wl_json_valid(const char *json);
bool wl_json_int(const char *json, const char *path, int64_t *out);
bool wl_json_double(const char *json, const char *path, double *out);
bool wl_json_bool(const char *json, const char *path, bool *out);
/** The string at `path`, unescaped into `out` (at most size-1 bytes). */
bool wl_json_string(const char *json, const char *path, char *out, size_t size);

/* ---- bytes, TCP and UDP ---------------------------------------------- */

/** Bytes the host returned; valid until the task returns. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} wl_bytes;

/** True when `bytes` holds exactly `len` bytes equal to `data`. */
bool wl_bytes_equal(wl_bytes bytes, const void *data, size_t len);

typedef struct wl_tcp wl_tcp;
/** Connects (one `tcp connect` event); NULL on failure, the task's error set. */
wl_tcp *wl_tcp_connect(const char *address, bool tls);
/** Per-operation timeout for this connection (default: --timeout). */
void wl_tcp_timeout_ms(wl_tcp *connection, uint64_t ms);
bool wl_tcp_send(wl_tcp *connection, const void *data, size_t len);
/** Up to `max` bytes as soon as any arrive; empty once the peer closed. */
bool wl_tcp_receive(wl_tcp *connection, size_t max, wl_bytes *out);
bool wl_tcp_receive_until(wl_tcp *connection, const char *delimiter, wl_bytes *out);
/** Sends `payload`, reads through `until`: one event named `name`. */
bool wl_tcp_request(wl_tcp *connection, const char *name, const void *payload, size_t len, const char *until, wl_bytes *out);
void wl_tcp_close(wl_tcp *connection);

typedef struct wl_udp wl_udp;
wl_udp *wl_udp_connect(const char *address);
void wl_udp_timeout_ms(wl_udp *socket, uint64_t ms);
bool wl_udp_send(wl_udp *socket, const void *data, size_t len);
bool wl_udp_receive(wl_udp *socket, size_t max, wl_bytes *out);
/** Sends one datagram and waits for one back: one event named `name`. */
bool wl_udp_request(wl_udp *socket, const char *name, const void *payload, size_t len, wl_bytes *out);
void wl_udp_close(wl_udp *socket);

/* ---- gRPC (protobuf bytes encoded by the guest) ----------------------- */

typedef struct {
    /** Default: --host. */
    const char *endpoint;
    const wl_header *metadata;
    size_t metadata_count;
    uint64_t timeout_ms;
} wl_grpc_options;

/** A unary call; false on any status but OK (see wl_grpc_code). */
bool wl_grpc_unary(const char *method, const void *message, size_t len, const wl_grpc_options *options, wl_bytes *reply);
/** A server-streaming call: `*count` messages in `*replies`. */
bool wl_grpc_server_streaming(const char *method, const void *message, size_t len, const wl_grpc_options *options, wl_bytes **replies, size_t *count);
/** The gRPC status code of the last failed call (0 when it was not a status). */
uint32_t wl_grpc_code(void);

/* ---- XML-RPC: values as the WIT's pre-order node list ------------------ */

typedef wasmload_user_xmlrpc_node_t wl_xml;
wl_xml wl_xml_int(int32_t value);
wl_xml wl_xml_bool(bool value);
wl_xml wl_xml_string(const char *value);
wl_xml wl_xml_double(double value);
wl_xml wl_xml_datetime(const char *iso8601);
wl_xml wl_xml_base64(const void *data, size_t len);
wl_xml wl_xml_nil(void);
/** Followed by `count` value trees. */
wl_xml wl_xml_array(uint32_t count);
/** Followed by one value tree per name. */
wl_xml wl_xml_struct(const char *const *names, size_t count);

/** Calls `method` at `url`; `*result` is the answer's node list. */
bool wl_xmlrpc_call(const char *url, const char *method, const wl_xml *params, size_t count, const wl_xml **result, size_t *result_count);
/** True when the two node lists hold the same values. */
bool wl_xml_equal(const wl_xml *a, size_t a_count, const wl_xml *b, size_t b_count);

/* ---- PostgreSQL (sdk/c/postgres.c) ------------------------------------ */

/** A parameter or a column's value; make parameters with the functions below. */
typedef wasmload_user_postgres_value_t wl_pg_value;
wl_pg_value wl_pg_null(void);
wl_pg_value wl_pg_bool(bool value);
wl_pg_value wl_pg_int(int64_t value);
wl_pg_value wl_pg_float(double value);
/** Text, or any type the server parses from text (a date, a numeric). */
wl_pg_value wl_pg_text(const char *value);
wl_pg_value wl_pg_bytes(const void *data, size_t len);
/** `params, count` from values written inline: WL_PG_PARAMS(wl_pg_int(7), wl_pg_text("x")). */
#define WL_PG_PARAMS(...) \
    (const wl_pg_value[]){__VA_ARGS__}, sizeof((const wl_pg_value[]){__VA_ARGS__}) / sizeof(wl_pg_value)

/** True for SQL NULL (and for no value at all). */
bool wl_pg_is_null(const wl_pg_value *value);
/** `bool`; false when the value is another kind. */
bool wl_pg_get_bool(const wl_pg_value *value, bool *out);
/** `int2`, `int4`, `int8`, `oid`; false when the value is another kind. */
bool wl_pg_get_int(const wl_pg_value *value, int64_t *out);
/** `float4`, `float8`; false when the value is another kind. */
bool wl_pg_get_float(const wl_pg_value *value, double *out);
/** Text, NUL-terminated (`numeric` as its digits, `json` as its text); NULL for another kind. */
const char *wl_pg_get_text(const wl_pg_value *value);
/** `bytea`; false when the value is another kind. */
bool wl_pg_get_bytes(const wl_pg_value *value, wl_bytes *out);

/** What a query returned; valid until the task returns. */
typedef struct wl_pg_rows wl_pg_rows;
size_t wl_pg_row_count(const wl_pg_rows *rows);
size_t wl_pg_column_count(const wl_pg_rows *rows);
/** The column's name, or NULL past the last column. */
const char *wl_pg_column_name(const wl_pg_rows *rows, size_t column);
/** The value in that row and column, or NULL past the end. */
const wl_pg_value *wl_pg_value_at(const wl_pg_rows *rows, size_t row, size_t column);

/** A connection; open until `wl_pg_close` or the user ends. */
typedef struct wl_pg wl_pg;
/** Connects to `url` (NULL or "": --host), e.g. postgres://user@127.0.0.1:5432/shop:
 * one `postgres` event named `connect`. NULL on failure, the task's error set. */
wl_pg *wl_pg_connect(const char *url);
/** Timeout of this connection's statements (default: --timeout). */
void wl_pg_timeout_ms(wl_pg *db, uint64_t ms);
/** Runs `sql` with `params` ($1, $2, ...): one event named `name` (NULL: the
 * statement's text, literals elided). NULL on failure, the task's error set. */
wl_pg_rows *wl_pg_query(wl_pg *db, const char *name, const char *sql, const wl_pg_value *params, size_t count);
/** Runs `sql` with `params`; `*affected` (unless NULL) is the rows it changed. */
bool wl_pg_execute(wl_pg *db, const char *name, const char *sql, const wl_pg_value *params, size_t count,
                   uint64_t *affected);
/** Starts, commits or rolls back a transaction: events named BEGIN, COMMIT, ROLLBACK. */
bool wl_pg_begin(wl_pg *db);
bool wl_pg_commit(wl_pg *db);
bool wl_pg_rollback(wl_pg *db);
/** SQLSTATE of the last failure when the server refused a statement, else "". */
const char *wl_pg_sqlstate(void);
/** Closes the connection; close its statements first. */
void wl_pg_close(wl_pg *db);

/** A statement prepared once to run many times; its events are named `name`. */
typedef struct wl_pg_statement wl_pg_statement;
/** Prepares `sql`: one event named `PREPARE name`. NULL on failure. */
wl_pg_statement *wl_pg_prepare(wl_pg *db, const char *name, const char *sql);
wl_pg_rows *wl_pg_statement_query(wl_pg_statement *statement, const wl_pg_value *params, size_t count);
bool wl_pg_statement_execute(wl_pg_statement *statement, const wl_pg_value *params, size_t count,
                             uint64_t *affected);
void wl_pg_statement_close(wl_pg_statement *statement);

/* ---- WebSocket (sdk/c/websocket.c) ------------------------------------ */

/** One message; a received text is NUL-terminated, and valid until the task returns. */
typedef struct {
    bool binary;
    const uint8_t *data;
    size_t len;
} wl_ws_message;
/** A text message of the NUL-terminated `text`. */
wl_ws_message wl_ws_text(const char *text);
wl_ws_message wl_ws_binary(const void *data, size_t len);

/** How to connect; all fields optional. */
typedef struct {
    /** Extra headers of the handshake request. */
    const wl_header *headers;
    size_t header_count;
    /** Subprotocols offered, most wanted first. */
    const char *const *subprotocols;
    size_t subprotocol_count;
    /** Also each operation's timeout (default: --timeout). */
    uint64_t timeout_ms;
} wl_ws_options;

/** A connection; open until `wl_ws_close` or the user ends. */
typedef struct wl_ws wl_ws;
/** Connects to `url` (ws:// or wss://; NULL or "": --host): one `ws` event
 * named `connect`. `options` may be NULL. NULL on failure. */
wl_ws *wl_ws_connect(const char *url, const wl_ws_options *options);
/** The subprotocol the server chose, or NULL. */
const char *wl_ws_subprotocol(wl_ws *socket);
bool wl_ws_send(wl_ws *socket, wl_ws_message message);
/** The next text or binary message (pings are answered meanwhile). */
bool wl_ws_receive(wl_ws *socket, wl_ws_message *out);
/** Sends `message` and waits for the next: one event named `name`. */
bool wl_ws_request(wl_ws *socket, const char *name, wl_ws_message message, wl_ws_message *reply);
/** A ping and its pong: one event named `ping`. */
bool wl_ws_ping(wl_ws *socket);
/** Closes with `code` (1000: normal) and `reason`, and releases the connection. */
bool wl_ws_close(wl_ws *socket, uint16_t code, const char *reason);

/* ---- MQTT (sdk/c/mqtt.c) ---------------------------------------------- */

typedef enum { WL_QOS_AT_MOST_ONCE, WL_QOS_AT_LEAST_ONCE, WL_QOS_EXACTLY_ONCE } wl_qos;

/** How to connect; all fields optional. */
typedef struct {
    /** Default: wasmload-USER-RANDOM. */
    const char *client_id;
    /** Seconds the broker waits for a packet; 0 (the default): never. */
    uint16_t keep_alive_s;
    /** Keep the session on the broker (MQTT's clean session off). */
    bool persistent_session;
    /** Also each operation's timeout (default: --timeout). */
    uint64_t timeout_ms;
} wl_mqtt_options;

/** A received message, valid until the task returns; the topic NUL-terminated. */
typedef struct {
    const char *topic;
    wl_bytes payload;
    wl_qos qos;
    bool retain;
} wl_mqtt_message;

/** A connection; open until `wl_mqtt_disconnect` or the user ends. */
typedef struct wl_mqtt wl_mqtt;
/** Connects to `url` (mqtt://[user:password@]host:1883 or mqtts://; NULL or
 * "": --host): one `mqtt` event named `connect`. `options` may be NULL. */
wl_mqtt *wl_mqtt_connect(const char *url, const wl_mqtt_options *options);
/** Publishes: one event named `name` (NULL: the topic), timed to its
 * acknowledgement (QoS 0: the write). */
bool wl_mqtt_publish(wl_mqtt *broker, const char *name, const char *topic, const void *payload, size_t len,
                     wl_qos qos);
/** Subscribes; `*granted` (unless NULL) is the QoS the broker granted. */
bool wl_mqtt_subscribe(wl_mqtt *broker, const char *filter, wl_qos qos, wl_qos *granted);
/** The next message from a subscription. */
bool wl_mqtt_receive(wl_mqtt *broker, wl_mqtt_message *out);
/** Pings the broker: one event named `ping`. */
bool wl_mqtt_ping(wl_mqtt *broker);
/** Says goodbye (DISCONNECT) and releases the connection. */
bool wl_mqtt_disconnect(wl_mqtt *broker);

/* ---- events for work the host does not see --------------------------- */

void wl_fire(const char *kind, const char *name, double response_time_ms, uint64_t length, const char *error);
void wl_counter(const char *name, double value);
void wl_trend(const char *name, double value);

typedef struct {
    wasmload_user_events_own_timer_t handle;
} wl_timer;
wl_timer wl_timer_start(const char *kind, const char *name);
void wl_timer_success(wl_timer timer, uint64_t length);
void wl_timer_failure(wl_timer timer, const char *reason);

#ifdef __cplusplus
}
#endif

#endif
