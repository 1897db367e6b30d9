/* The C SDK's own helpers, shared by its source files; not for users. */
#ifndef WASMLOAD_INTERNAL_H
#define WASMLOAD_INTERNAL_H

#include "wasmload.h"

/* Keeps `pointer` until the current export call returns, then frees it. */
void *wl__keep(void *pointer);
/* Keeps a list the host returned (nothing when it is empty); returns it or NULL. */
void *wl__keep_list(void *pointer, size_t len);
/* A C string or bytes as the canonical ABI's view of them (not copied). */
user_string_t wl__borrow(const char *text);
user_list_u8_t wl__borrow_bytes(const void *data, size_t len);
/* Takes over a string or bytes the host returned, kept until the call returns;
 * the string NUL-terminated (and `string->ptr` set to it). */
char *wl__adopt(user_string_t *string);
wl_bytes wl__adopt_bytes(user_list_u8_t *list);
/* Milliseconds as the host's optional microseconds (0: none, the default). */
user_option_u64_t wl__micros(uint64_t ms);
/* A stored timeout in microseconds as the host's `option<u64>` (0: none). */
uint64_t *wl__timeout_or_null(uint64_t *micros_value);
/* Sets the task's error to "OP: KIND" or "OP: KIND: DETAIL" and returns
 * false; `detail` may be NULL. */
bool wl__failed(const char *op, const char *kind, const user_string_t *detail);
/* A copy of `size` bytes the caller frees; aborts when memory is out. */
void *wl__new(size_t size);

#endif
