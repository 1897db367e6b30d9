/* wasmload's C SDK: the behaviour export, and friendly wrappers over the
 * bindings wit-bindgen generates from wit/user.wit (user.h). */

#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the task's error and its arena ----------------------------------- */

static char error_text[1024];

wl_status wl_fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(error_text, sizeof error_text, format, args);
    va_end(args);
    return WL_ERR;
}

const char *wl_error(void) { return error_text; }

/* What the SDK handed out during one export call, released after it. */
static void **arena;
static size_t arena_len, arena_cap;
static wl_response **responses;
static size_t responses_len, responses_cap;

static void *grow(void *items, size_t *cap, size_t item_size) {
    *cap = *cap ? *cap * 2 : 16;
    void *grown = realloc(items, *cap * item_size);
    if (!grown)
        abort();
    return grown;
}

void *wl__keep(void *pointer) {
    if (arena_len == arena_cap)
        arena = grow(arena, &arena_cap, sizeof *arena);
    arena[arena_len++] = pointer;
    return pointer;
}

void *wl__new(size_t size) {
    void *pointer = calloc(1, size ? size : 1);
    if (!pointer)
        abort();
    return pointer;
}

bool wl__failed(const char *op, const char *kind, const user_string_t *detail) {
    if (detail)
        wl_fail("%s: %s: %.*s", op, kind, (int)detail->len, (const char *)detail->ptr);
    else
        wl_fail("%s: %s", op, kind);
    return false;
}

static void *allocate(size_t size) { return wl__keep(wl__new(size)); }

struct wl_response {
    wasmload_user_http_own_response_t handle;
    uint16_t status;
    char *body;
    size_t body_len;
    const char *json;
};

static void release(void) {
    for (size_t i = 0; i < responses_len; i++)
        wasmload_user_http_response_drop_own(responses[i]->handle);
    responses_len = 0;
    for (size_t i = 0; i < arena_len; i++)
        free(arena[i]);
    arena_len = 0;
}

/* ---- strings between C and the canonical ABI -------------------------- */

user_string_t wl__borrow(const char *text) {
    user_string_t string = {(uint8_t *)text, text ? strlen(text) : 0};
    return string;
}

user_list_u8_t wl__borrow_bytes(const void *data, size_t len) {
    user_list_u8_t list = {(uint8_t *)data, len};
    return list;
}

/* The host allocates nothing for an empty list: its pointer is only the
 * alignment (cabi_realloc's answer to a size of 0), never to be freed. */
void *wl__keep_list(void *pointer, size_t len) { return len ? wl__keep(pointer) : NULL; }

/* Takes over a string the host returned: NUL-terminated, in the arena. */
char *wl__adopt(user_string_t *string) {
    char *text = string->len ? realloc(string->ptr, string->len + 1) : calloc(1, 1);
    if (!text)
        abort();
    text[string->len] = '\0';
    string->ptr = (uint8_t *)text;
    return wl__keep(text);
}

wl_bytes wl__adopt_bytes(user_list_u8_t *list) {
    wl_bytes bytes = {wl__keep_list(list->ptr, list->len), list->len};
    return bytes;
}

user_option_u64_t wl__micros(uint64_t ms) {
    user_option_u64_t option = {ms != 0, ms * 1000};
    return option;
}

uint64_t *wl__timeout_or_null(uint64_t *micros_value) { return *micros_value ? micros_value : NULL; }

/* ---- the behaviour export ---------------------------------------------- */

static const wl_class *current;

__attribute__((weak)) wl_load wl_shape(double run_time_s) {
    (void)run_time_s;
    return wl_load_unchanged();
}

static void dup_tags(const char *tags, user_list_string_t *out) {
    out->ptr = NULL;
    out->len = 0;
    if (!tags || !*tags)
        return;
    size_t count = 1;
    for (const char *c = tags; *c; c++)
        count += *c == ',';
    out->ptr = calloc(count, sizeof(user_string_t));
    for (const char *start = tags;; start++) {
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        user_string_dup_n(&out->ptr[out->len++], start, len);
        if (!end)
            break;
        start = end;
    }
}

void exports_wasmload_user_behaviour_describe(exports_wasmload_user_behaviour_list_user_class_t *ret) {
    ret->len = wl_class_count;
    ret->ptr = calloc(wl_class_count, sizeof *ret->ptr);
    for (size_t c = 0; c < wl_class_count; c++) {
        const wl_class *class = &wl_classes[c];
        exports_wasmload_user_behaviour_user_class_t *out = &ret->ptr[c];
        user_string_dup(&out->name, class->name ? class->name : "user");
        out->weight = class->weight ? class->weight : 1;
        out->fixed_count.is_some = class->fixed_count != 0;
        out->fixed_count.val = class->fixed_count;
        out->wait = class->wait ? class->wait() : wl_no_wait();
        out->tasks.len = class->task_count;
        out->tasks.ptr = calloc(class->task_count, sizeof *out->tasks.ptr);
        for (size_t t = 0; t < class->task_count; t++) {
            const wl_task *task = &class->tasks[t];
            user_string_dup(&out->tasks.ptr[t].name, task->name);
            out->tasks.ptr[t].weight = task->weight ? task->weight : 1;
            dup_tags(task->tags, &out->tasks.ptr[t].tags);
        }
    }
    release();
}

/* Runs one user function and turns WL_ERR into the export's error. */
static bool call(wl_status (*function)(void), user_string_t *err) {
    error_text[0] = '\0';
    wl_status status = function ? function() : WL_OK;
    release();
    if (status == WL_OK)
        return true;
    user_string_dup(err, error_text[0] ? error_text : "task failed");
    return false;
}

bool exports_wasmload_user_behaviour_on_start(uint32_t user_class, user_string_t *err) {
    if (user_class >= wl_class_count) {
        user_string_dup(err, "no such user class");
        return false;
    }
    current = &wl_classes[user_class];
    return call(current->on_start, err);
}

bool exports_wasmload_user_behaviour_run_task(uint32_t task, user_string_t *err) {
    if (!current || task >= current->task_count) {
        user_string_dup(err, "no such task");
        return false;
    }
    return call(current->tasks[task].run, err);
}

bool exports_wasmload_user_behaviour_on_stop(user_string_t *err) {
    return call(current ? current->on_stop : NULL, err);
}

void exports_wasmload_user_behaviour_shape(uint64_t run_time_us, exports_wasmload_user_behaviour_load_target_t *ret) {
    *ret = wl_shape((double)run_time_us / 1e6);
    release();
}

static wl_wait wait_of(uint8_t tag) {
    wl_wait wait;
    memset(&wait, 0, sizeof wait);
    wait.tag = tag;
    return wait;
}

wl_wait wl_no_wait(void) { return wait_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_WAIT_TIME_NONE); }

wl_wait wl_constant_ms(uint64_t ms) {
    wl_wait wait = wait_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_WAIT_TIME_CONSTANT);
    wait.val.constant = ms * 1000;
    return wait;
}

wl_wait wl_between_ms(uint64_t min_ms, uint64_t max_ms) {
    wl_wait wait = wait_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_WAIT_TIME_BETWEEN);
    wait.val.between.f0 = min_ms * 1000;
    wait.val.between.f1 = max_ms * 1000;
    return wait;
}

wl_wait wl_pacing_ms(uint64_t ms) {
    wl_wait wait = wait_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_WAIT_TIME_CONSTANT_PACING);
    wait.val.constant_pacing = ms * 1000;
    return wait;
}

wl_wait wl_throughput(double tasks_per_second) {
    wl_wait wait = wait_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_WAIT_TIME_CONSTANT_THROUGHPUT);
    wait.val.constant_throughput = tasks_per_second;
    return wait;
}

static wl_load load_of(uint8_t tag) {
    wl_load load;
    memset(&load, 0, sizeof load);
    load.tag = tag;
    return load;
}

wl_load wl_load_users(uint32_t users, double spawn_rate) {
    wl_load load = load_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_LOAD_TARGET_USERS);
    load.val.users.users = users;
    load.val.users.spawn_rate = spawn_rate;
    return load;
}

wl_load wl_load_rate(double iterations_per_second) {
    wl_load load = load_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_LOAD_TARGET_RATE);
    load.val.rate = iterations_per_second;
    return load;
}

wl_load wl_load_stop(void) { return load_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_LOAD_TARGET_STOP); }

wl_load wl_load_unchanged(void) { return load_of(EXPORTS_WASMLOAD_USER_BEHAVIOUR_LOAD_TARGET_UNSHAPED); }

/* ---- context ----------------------------------------------------------- */

uint64_t wl_user_id(void) { return wasmload_user_context_user_id(); }

void wl_sleep_ms(uint64_t ms) { wasmload_user_context_sleep(ms * 1000); }

double wl_now_ms(void) { return (double)wasmload_user_context_now_us() / 1000.0; }

uint64_t wl_random(void) { return wasmload_user_context_random(); }

uint64_t wl_random_range(uint64_t low, uint64_t high) {
    return high > low ? low + wasmload_user_context_random() % (high - low) : low;
}

const char *wl_param(const char *key) {
    user_string_t name = wl__borrow(key), value;
    return wasmload_user_context_param(&name, &value) ? wl__adopt(&value) : NULL;
}

const char *wl_param_or(const char *key, const char *fallback) {
    const char *value = wl_param(key);
    return value ? value : fallback;
}

const char *wl_host(void) {
    user_string_t value;
    return wasmload_user_context_host(&value) ? wl__adopt(&value) : NULL;
}

void wl_log(wl_level level, const char *format, ...) {
    char line[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    user_string_t message = wl__borrow(line);
    wasmload_user_context_log((wasmload_user_context_level_t)level, &message);
}

/* ---- HTTP ------------------------------------------------------------- */

static const char *http_error_kind(uint8_t tag) {
    switch (tag) {
    case WASMLOAD_USER_HTTP_ERROR_INVALID_REQUEST: return "invalid request";
    case WASMLOAD_USER_HTTP_ERROR_TIMEOUT: return "timeout";
    case WASMLOAD_USER_HTTP_ERROR_CONNECT: return "connect";
    case WASMLOAD_USER_HTTP_ERROR_TRANSPORT: return "transport";
    default: return "too many redirects";
    }
}

wl_response *wl_send(const wl_request *request) {
    const char *method = request->method ? request->method : "GET";
    wasmload_user_http_request_t sent;
    memset(&sent, 0, sizeof sent);
    sent.method = wl__borrow(method);
    sent.url = wl__borrow(request->url);
    user_tuple2_string_string_t headers[request->header_count + 1];
    for (size_t i = 0; i < request->header_count; i++) {
        headers[i].f0 = wl__borrow(request->headers[i].name);
        headers[i].f1 = wl__borrow(request->headers[i].value);
    }
    sent.headers.ptr = headers;
    sent.headers.len = request->header_count;
    size_t body_len = request->body && !request->body_len ? strlen(request->body) : request->body_len;
    sent.body = wl__borrow_bytes(request->body, body_len);
    sent.name.is_some = request->name != NULL;
    sent.name.val = wl__borrow(request->name);
    sent.timeout_us = wl__micros(request->timeout_ms);
    sent.follow_redirects = !request->no_redirects;

    wasmload_user_http_own_response_t handle;
    wasmload_user_http_error_t error;
    if (!wasmload_user_http_send(&sent, &handle, &error)) {
        bool detailed = error.tag != WASMLOAD_USER_HTTP_ERROR_TIMEOUT &&
                        error.tag != WASMLOAD_USER_HTTP_ERROR_TOO_MANY_REDIRECTS;
        wl_fail("%s %s: %s%s%.*s", method, request->url, http_error_kind(error.tag), detailed ? ": " : "",
                detailed ? (int)error.val.connect.len : 0, detailed ? (const char *)error.val.connect.ptr : "");
        wasmload_user_http_error_free(&error);
        return NULL;
    }
    wl_response *response = allocate(sizeof *response);
    response->handle = handle;
    wasmload_user_http_borrow_response_t borrowed = wasmload_user_http_borrow_response(handle);
    response->status = wasmload_user_http_method_response_status(borrowed);
    user_list_u8_t body;
    wasmload_user_http_method_response_body(borrowed, &body);
    response->body_len = body.len;
    user_string_t text = {body.ptr, body.len};
    response->body = wl__adopt(&text);
    if (responses_len == responses_cap)
        responses = grow(responses, &responses_cap, sizeof *responses);
    responses[responses_len++] = response;
    return response;
}

wl_response *wl_get(const char *url) { return WL_HTTP(.url = url); }

wl_response *wl_post_json(const char *url, const char *json) {
    static const wl_header json_type[] = {{"content-type", "application/json"}};
    return WL_HTTP(.method = "POST", .url = url, .body = json, .headers = json_type, .header_count = 1);
}

static wasmload_user_http_borrow_response_t borrowed(const wl_response *response) {
    return wasmload_user_http_borrow_response(response->handle);
}

uint16_t wl_status_code(const wl_response *response) { return response->status; }

const char *wl_body(const wl_response *response) { return response->body; }

size_t wl_body_len(const wl_response *response) { return response->body_len; }

const char *wl_header_value(const wl_response *response, const char *name) {
    user_string_t key = wl__borrow(name), value;
    return wasmload_user_http_method_response_header(borrowed(response), &key, &value) ? wl__adopt(&value) : NULL;
}

double wl_elapsed_ms(const wl_response *response) {
    return (double)wasmload_user_http_method_response_elapsed_us(borrowed(response)) / 1000.0;
}

void wl_success(wl_response *response) { wasmload_user_http_method_response_success(borrowed(response)); }

void wl_failure(wl_response *response, const char *format, ...) {
    char reason[512];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    user_string_t text = wl__borrow(reason);
    wasmload_user_http_method_response_failure(borrowed(response), &text);
}

bool wl_expect_status(wl_response *response, uint16_t status) {
    if (response->status == status)
        return true;
    wl_failure(response, "expected status %u, got %u", status, response->status);
    wl_fail("expected status %u, got %u", status, response->status);
    return false;
}

static bool has_header(const wl_request *request, const char *name) {
    for (size_t i = 0; i < request->header_count; i++)
        if (strcasecmp(request->headers[i].name, name) == 0)
            return true;
    return false;
}

wl_response *wl_rest(const wl_request *request) {
    wl_request sent = *request;
    wl_header headers[request->header_count + 2];
    memcpy(headers, request->headers, request->header_count * sizeof *headers);
    sent.headers = headers;
    if (!has_header(request, "content-type"))
        headers[sent.header_count++] = (wl_header){"content-type", "application/json"};
    if (!has_header(request, "accept"))
        headers[sent.header_count++] = (wl_header){"accept", "application/json"};
    wl_response *response = wl_send(&sent);
    if (!response)
        return NULL;
    if (response->body_len == 0 || wl_json_valid(response->body))
        response->json = response->body_len ? response->body : "null";
    else
        wl_failure(response, "invalid JSON");
    return response;
}

const char *wl_json(const wl_response *response) { return response->json; }

/* ---- bytes, TCP and UDP ---------------------------------------------- */

bool wl_bytes_equal(wl_bytes bytes, const void *data, size_t len) {
    return bytes.len == len && (len == 0 || memcmp(bytes.ptr, data, len) == 0);
}

struct wl_tcp {
    wasmload_user_tcp_own_connection_t handle;
    uint64_t timeout_us;
};

static bool tcp_failed(const char *what, wasmload_user_tcp_error_t *error) {
    static const char *const kinds[] = {"invalid address", "connect", "timeout", "closed by peer", "too large", "io"};
    bool detailed = error->tag == WASMLOAD_USER_TCP_ERROR_INVALID_ADDRESS ||
                    error->tag == WASMLOAD_USER_TCP_ERROR_CONNECT || error->tag == WASMLOAD_USER_TCP_ERROR_IO;
    wl_fail("tcp %s: %s%s%.*s", what, kinds[error->tag], detailed ? ": " : "",
            detailed ? (int)error->val.io.len : 0, detailed ? (const char *)error->val.io.ptr : "");
    wasmload_user_tcp_error_free(error);
    return false;
}

wl_tcp *wl_tcp_connect(const char *address, bool tls) {
    user_string_t where = wl__borrow(address);
    wasmload_user_tcp_connect_options_t options = {{false, 0}, tls};
    wasmload_user_tcp_own_connection_t handle;
    wasmload_user_tcp_error_t error;
    if (!wasmload_user_tcp_static_connection_connect(&where, &options, &handle, &error)) {
        tcp_failed("connect", &error);
        return NULL;
    }
    wl_tcp *connection = wl__new(sizeof *connection);
    connection->handle = handle;
    return connection;
}

void wl_tcp_timeout_ms(wl_tcp *connection, uint64_t ms) { connection->timeout_us = ms * 1000; }

static wasmload_user_tcp_borrow_connection_t tcp_borrow(wl_tcp *connection) {
    return wasmload_user_tcp_borrow_connection(connection->handle);
}

bool wl_tcp_send(wl_tcp *connection, const void *data, size_t len) {
    user_list_u8_t bytes = wl__borrow_bytes(data, len);
    wasmload_user_tcp_error_t error;
    return wasmload_user_tcp_method_connection_send(tcp_borrow(connection), &bytes, &error) ||
           tcp_failed("send", &error);
}

bool wl_tcp_receive(wl_tcp *connection, size_t max, wl_bytes *out) {
    user_list_u8_t bytes;
    wasmload_user_tcp_error_t error;
    if (!wasmload_user_tcp_method_connection_receive(tcp_borrow(connection), (uint32_t)max,
                                                     wl__timeout_or_null(&connection->timeout_us), &bytes, &error))
        return tcp_failed("receive", &error);
    *out = wl__adopt_bytes(&bytes);
    return true;
}

/* Largest message read up to a delimiter. */
#define MAX_MESSAGE (1u << 20)

bool wl_tcp_receive_until(wl_tcp *connection, const char *delimiter, wl_bytes *out) {
    user_list_u8_t until = wl__borrow_bytes(delimiter, strlen(delimiter)), bytes;
    wasmload_user_tcp_error_t error;
    if (!wasmload_user_tcp_method_connection_receive_until(tcp_borrow(connection), &until, MAX_MESSAGE,
                                                           wl__timeout_or_null(&connection->timeout_us), &bytes, &error))
        return tcp_failed("receive", &error);
    *out = wl__adopt_bytes(&bytes);
    return true;
}

bool wl_tcp_request(wl_tcp *connection, const char *name, const void *payload, size_t len, const char *until,
                    wl_bytes *out) {
    user_string_t event = wl__borrow(name);
    user_list_u8_t sent = wl__borrow_bytes(payload, len), delimiter = wl__borrow_bytes(until, strlen(until)), bytes;
    wasmload_user_tcp_error_t error;
    if (!wasmload_user_tcp_method_connection_request(tcp_borrow(connection), &event, &sent, &delimiter,
                                                     wl__timeout_or_null(&connection->timeout_us), &bytes, &error))
        return tcp_failed(name, &error);
    *out = wl__adopt_bytes(&bytes);
    return true;
}

void wl_tcp_close(wl_tcp *connection) {
    if (!connection)
        return;
    wasmload_user_tcp_connection_drop_own(connection->handle);
    free(connection);
}

struct wl_udp {
    wasmload_user_udp_own_socket_t handle;
    uint64_t timeout_us;
};

static bool udp_failed(const char *what, wasmload_user_udp_error_t *error) {
    static const char *const kinds[] = {"invalid address", "timeout", "io"};
    bool detailed = error->tag != WASMLOAD_USER_UDP_ERROR_TIMEOUT;
    wl_fail("udp %s: %s%s%.*s", what, kinds[error->tag], detailed ? ": " : "", detailed ? (int)error->val.io.len : 0,
            detailed ? (const char *)error->val.io.ptr : "");
    wasmload_user_udp_error_free(error);
    return false;
}

wl_udp *wl_udp_connect(const char *address) {
    user_string_t where = wl__borrow(address);
    wasmload_user_udp_own_socket_t handle;
    wasmload_user_udp_error_t error;
    if (!wasmload_user_udp_static_socket_connect(&where, &handle, &error)) {
        udp_failed("connect", &error);
        return NULL;
    }
    wl_udp *socket = wl__new(sizeof *socket);
    socket->handle = handle;
    return socket;
}

void wl_udp_timeout_ms(wl_udp *socket, uint64_t ms) { socket->timeout_us = ms * 1000; }

static wasmload_user_udp_borrow_socket_t udp_borrow(wl_udp *socket) {
    return wasmload_user_udp_borrow_socket(socket->handle);
}

bool wl_udp_send(wl_udp *socket, const void *data, size_t len) {
    user_list_u8_t bytes = wl__borrow_bytes(data, len);
    wasmload_user_udp_error_t error;
    return wasmload_user_udp_method_socket_send(udp_borrow(socket), &bytes, &error) || udp_failed("send", &error);
}

bool wl_udp_receive(wl_udp *socket, size_t max, wl_bytes *out) {
    user_list_u8_t bytes;
    wasmload_user_udp_error_t error;
    if (!wasmload_user_udp_method_socket_receive(udp_borrow(socket), (uint32_t)max,
                                                 wl__timeout_or_null(&socket->timeout_us), &bytes, &error))
        return udp_failed("receive", &error);
    *out = wl__adopt_bytes(&bytes);
    return true;
}

bool wl_udp_request(wl_udp *socket, const char *name, const void *payload, size_t len, wl_bytes *out) {
    user_string_t event = wl__borrow(name);
    user_list_u8_t sent = wl__borrow_bytes(payload, len), bytes;
    wasmload_user_udp_error_t error;
    if (!wasmload_user_udp_method_socket_request(udp_borrow(socket), &event, &sent,
                                                 wl__timeout_or_null(&socket->timeout_us), &bytes, &error))
        return udp_failed(name, &error);
    *out = wl__adopt_bytes(&bytes);
    return true;
}

void wl_udp_close(wl_udp *socket) {
    if (!socket)
        return;
    wasmload_user_udp_socket_drop_own(socket->handle);
    free(socket);
}

/* ---- gRPC ------------------------------------------------------------- */

static uint32_t grpc_code;

uint32_t wl_grpc_code(void) { return grpc_code; }

typedef bool (*grpc_function)(user_string_t *, user_list_u8_t *, wasmload_user_grpc_call_options_t *,
                              wasmload_user_grpc_reply_t *, wasmload_user_grpc_error_t *);

static bool grpc_call(grpc_function function, const char *method, const void *message, size_t len,
                      const wl_grpc_options *given, wasmload_user_grpc_reply_t *reply) {
    static const wl_grpc_options defaults;
    const wl_grpc_options *options = given ? given : &defaults;
    wasmload_user_grpc_call_options_t sent;
    memset(&sent, 0, sizeof sent);
    sent.endpoint.is_some = options->endpoint != NULL;
    sent.endpoint.val = wl__borrow(options->endpoint);
    user_tuple2_string_string_t metadata[options->metadata_count + 1];
    for (size_t i = 0; i < options->metadata_count; i++) {
        metadata[i].f0 = wl__borrow(options->metadata[i].name);
        metadata[i].f1 = wl__borrow(options->metadata[i].value);
    }
    sent.metadata.ptr = metadata;
    sent.metadata.len = options->metadata_count;
    sent.timeout_us = wl__micros(options->timeout_ms);
    user_string_t path = wl__borrow(method);
    user_list_u8_t bytes = wl__borrow_bytes(message, len);
    wasmload_user_grpc_error_t error;
    if (function(&path, &bytes, &sent, reply, &error)) {
        grpc_code = 0;
        return true;
    }
    if (error.tag == WASMLOAD_USER_GRPC_ERROR_STATUS) {
        grpc_code = error.val.status.code;
        wl_fail("%s: status %u: %.*s", method, grpc_code, (int)error.val.status.message.len,
                (const char *)error.val.status.message.ptr);
    } else {
        grpc_code = 0;
        wl_fail("%s: invalid request: %.*s", method, (int)error.val.invalid_request.len,
                (const char *)error.val.invalid_request.ptr);
    }
    wasmload_user_grpc_error_free(&error);
    return false;
}

static wl_bytes *adopt_replies(wasmload_user_grpc_reply_t *reply, size_t *count) {
    wl_bytes *messages = allocate((reply->messages.len + 1) * sizeof *messages);
    for (size_t i = 0; i < reply->messages.len; i++)
        messages[i] = wl__adopt_bytes(&reply->messages.ptr[i]);
    *count = reply->messages.len;
    wl__keep_list(reply->messages.ptr, reply->messages.len);
    user_list_tuple2_string_string_free(&reply->metadata);
    return messages;
}

bool wl_grpc_unary(const char *method, const void *message, size_t len, const wl_grpc_options *options,
                   wl_bytes *out) {
    wasmload_user_grpc_reply_t reply;
    if (!grpc_call(wasmload_user_grpc_unary, method, message, len, options, &reply))
        return false;
    size_t count;
    wl_bytes *messages = adopt_replies(&reply, &count);
    *out = count ? messages[0] : (wl_bytes){NULL, 0};
    return true;
}

bool wl_grpc_server_streaming(const char *method, const void *message, size_t len, const wl_grpc_options *options,
                              wl_bytes **replies, size_t *count) {
    wasmload_user_grpc_reply_t reply;
    if (!grpc_call(wasmload_user_grpc_server_streaming, method, message, len, options, &reply))
        return false;
    *replies = adopt_replies(&reply, count);
    return true;
}

/* ---- XML-RPC ---------------------------------------------------------- */

static wl_xml xml_of(uint8_t tag) {
    wl_xml node;
    memset(&node, 0, sizeof node);
    node.tag = tag;
    return node;
}

wl_xml wl_xml_int(int32_t value) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_INT);
    node.val.int_ = value;
    return node;
}

wl_xml wl_xml_bool(bool value) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_BOOLEAN);
    node.val.boolean = value;
    return node;
}

wl_xml wl_xml_string(const char *value) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_STRING);
    node.val.string = wl__borrow(value);
    return node;
}

wl_xml wl_xml_double(double value) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_DOUBLE);
    node.val.double_ = value;
    return node;
}

wl_xml wl_xml_datetime(const char *iso8601) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_DATETIME);
    node.val.datetime = wl__borrow(iso8601);
    return node;
}

wl_xml wl_xml_base64(const void *data, size_t len) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_BASE64);
    node.val.base64 = wl__borrow_bytes(data, len);
    return node;
}

wl_xml wl_xml_nil(void) { return xml_of(WASMLOAD_USER_XMLRPC_NODE_NIL); }

wl_xml wl_xml_array(uint32_t count) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_ARRAY);
    node.val.array = count;
    return node;
}

wl_xml wl_xml_struct(const char *const *names, size_t count) {
    wl_xml node = xml_of(WASMLOAD_USER_XMLRPC_NODE_STRUCT);
    user_string_t *list = allocate((count + 1) * sizeof *list);
    for (size_t i = 0; i < count; i++)
        list[i] = wl__borrow(names[i]);
    node.val.struct_.ptr = list;
    node.val.struct_.len = count;
    return node;
}

static bool same_string(user_string_t a, user_string_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool same_node(const wl_xml *a, const wl_xml *b) {
    if (a->tag != b->tag)
        return false;
    switch (a->tag) {
    case WASMLOAD_USER_XMLRPC_NODE_INT: return a->val.int_ == b->val.int_;
    case WASMLOAD_USER_XMLRPC_NODE_BOOLEAN: return a->val.boolean == b->val.boolean;
    case WASMLOAD_USER_XMLRPC_NODE_STRING: return same_string(a->val.string, b->val.string);
    case WASMLOAD_USER_XMLRPC_NODE_DOUBLE: return a->val.double_ == b->val.double_;
    case WASMLOAD_USER_XMLRPC_NODE_DATETIME: return same_string(a->val.datetime, b->val.datetime);
    case WASMLOAD_USER_XMLRPC_NODE_BASE64:
        return same_string((user_string_t){a->val.base64.ptr, a->val.base64.len},
                           (user_string_t){b->val.base64.ptr, b->val.base64.len});
    case WASMLOAD_USER_XMLRPC_NODE_ARRAY: return a->val.array == b->val.array;
    case WASMLOAD_USER_XMLRPC_NODE_STRUCT:
        if (a->val.struct_.len != b->val.struct_.len)
            return false;
        for (size_t i = 0; i < a->val.struct_.len; i++)
            if (!same_string(a->val.struct_.ptr[i], b->val.struct_.ptr[i]))
                return false;
        return true;
    default: return true;
    }
}

bool wl_xml_equal(const wl_xml *a, size_t a_count, const wl_xml *b, size_t b_count) {
    if (a_count != b_count)
        return false;
    for (size_t i = 0; i < a_count; i++)
        if (!same_node(&a[i], &b[i]))
            return false;
    return true;
}

static void keep_node(wl_xml *node) {
    switch (node->tag) {
    case WASMLOAD_USER_XMLRPC_NODE_STRING:
    case WASMLOAD_USER_XMLRPC_NODE_DATETIME:
    case WASMLOAD_USER_XMLRPC_NODE_BASE64:
        wl__keep_list(node->val.string.ptr, node->val.string.len);
        break;
    case WASMLOAD_USER_XMLRPC_NODE_STRUCT:
        for (size_t i = 0; i < node->val.struct_.len; i++)
            wl__keep_list(node->val.struct_.ptr[i].ptr, node->val.struct_.ptr[i].len);
        wl__keep_list(node->val.struct_.ptr, node->val.struct_.len);
        break;
    }
}

bool wl_xmlrpc_call(const char *url, const char *method, const wl_xml *params, size_t count, const wl_xml **result,
                    size_t *result_count) {
    user_string_t where = wl__borrow(url), name = wl__borrow(method);
    wasmload_user_xmlrpc_list_node_t sent = {(wl_xml *)params, count}, answer;
    wasmload_user_xmlrpc_error_t error;
    if (!wasmload_user_xmlrpc_call(&where, &name, &sent, &answer, &error)) {
        static const char *const kinds[] = {"fault", "invalid request", "transport", "malformed answer"};
        if (error.tag == WASMLOAD_USER_XMLRPC_ERROR_FAULT)
            wl_fail("%s: fault %d: %.*s", method, error.val.fault.code, (int)error.val.fault.message.len,
                    (const char *)error.val.fault.message.ptr);
        else
            wl_fail("%s: %s: %.*s", method, kinds[error.tag], (int)error.val.transport.len,
                    (const char *)error.val.transport.ptr);
        wasmload_user_xmlrpc_error_free(&error);
        return false;
    }
    for (size_t i = 0; i < answer.len; i++)
        keep_node(&answer.ptr[i]);
    wl__keep_list(answer.ptr, answer.len);
    *result = answer.ptr;
    *result_count = answer.len;
    return true;
}

/* ---- events ----------------------------------------------------------- */

void wl_fire(const char *kind, const char *name, double response_time_ms, uint64_t length, const char *error) {
    wasmload_user_events_request_event_t event;
    event.kind = wl__borrow(kind);
    event.name = wl__borrow(name);
    event.response_time_us = (uint64_t)(response_time_ms * 1000.0);
    event.response_length = length;
    event.error.is_some = error != NULL;
    event.error.val = wl__borrow(error);
    wasmload_user_events_fire(&event);
}

void wl_counter(const char *name, double value) {
    user_string_t counter = wl__borrow(name);
    wasmload_user_events_add_counter(&counter, value);
}

void wl_trend(const char *name, double value) {
    user_string_t trend = wl__borrow(name);
    wasmload_user_events_add_trend(&trend, value);
}

wl_timer wl_timer_start(const char *kind, const char *name) {
    user_string_t k = wl__borrow(kind), n = wl__borrow(name);
    wl_timer timer = {wasmload_user_events_constructor_timer(&k, &n)};
    return timer;
}

void wl_timer_success(wl_timer timer, uint64_t length) {
    wasmload_user_events_method_timer_success(wasmload_user_events_borrow_timer(timer.handle), length);
    wasmload_user_events_timer_drop_own(timer.handle);
}

void wl_timer_failure(wl_timer timer, const char *reason) {
    user_string_t text = wl__borrow(reason);
    wasmload_user_events_method_timer_failure(wasmload_user_events_borrow_timer(timer.handle), &text);
    wasmload_user_events_timer_drop_own(timer.handle);
}
