/* Just enough JSON for checking answers in C: validation, and looking up
 * one value by a path of object keys. No tree is built; each lookup walks
 * the text. */

#include "wasmload.h"

#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Past a string starting at its opening quote, or NULL if malformed. */
static const char *skip_string(const char *p) {
    for (p++; *p && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *skip_number(const char *p) {
    const char *start = p;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p > start ? p : NULL;
}

static const char *skip_value(const char *p, int depth);

/* Past an object or array; `close` is '}' or ']'. */
static const char *skip_container(const char *p, char close, int depth) {
    p = skip_space(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (close == '}') {
            if (*p != '"' || !(p = skip_string(p)))
                return NULL;
            p = skip_space(p);
            if (*p != ':')
                return NULL;
            p = skip_space(p + 1);
        }
        if (!(p = skip_value(p, depth + 1)))
            return NULL;
        p = skip_space(p);
        if (*p == close)
            return p + 1;
        if (*p != ',')
            return NULL;
        p = skip_space(p + 1);
    }
}

static const char *skip_value(const char *p, int depth) {
    if (depth > 64)
        return NULL;
    switch (*p) {
    case '{': return skip_container(p, '}', depth);
    case '[': return skip_container(p, ']', depth);
    case '"': return skip_string(p);
    case 't': return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f': return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n': return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default: return skip_number(p);
    }
}

bool wl_json_valid(const char *json) {
    if (!json)
        return false;
    const char *end = skip_value(skip_space(json), 0);
    return end && *skip_space(end) == '\0';
}

/* The value at `path` (keys separated by dots), or NULL. */
static const char *find(const char *json, const char *path) {
    if (!json)
        return NULL;
    const char *p = skip_space(json);
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t key_len = dot ? (size_t)(dot - path) : strlen(path);
        if (*p != '{')
            return NULL;
        p = skip_space(p + 1);
        for (;;) {
            if (*p != '"')
                return NULL;
            const char *key_end = skip_string(p);
            if (!key_end)
                return NULL;
            bool match = (size_t)(key_end - p - 2) == key_len && strncmp(p + 1, path, key_len) == 0;
            p = skip_space(key_end);
            if (*p != ':')
                return NULL;
            p = skip_space(p + 1);
            if (match)
                break;
            if (!(p = skip_value(p, 0)))
                return NULL;
            p = skip_space(p);
            if (*p != ',')
                return NULL;
            p = skip_space(p + 1);
        }
        path += key_len + (dot ? 1 : 0);
    }
    return p;
}

bool wl_json_double(const char *json, const char *path, double *out) {
    const char *value = find(json, path);
    if (!value || !skip_number(value))
        return false;
    *out = strtod(value, NULL);
    return true;
}

bool wl_json_int(const char *json, const char *path, int64_t *out) {
    const char *value = find(json, path);
    const char *end = value ? skip_number(value) : NULL;
    if (!end || memchr(value, '.', (size_t)(end - value)) || memchr(value, 'e', (size_t)(end - value)))
        return false;
    *out = strtoll(value, NULL, 10);
    return true;
}

bool wl_json_bool(const char *json, const char *path, bool *out) {
    const char *value = find(json, path);
    if (value && strncmp(value, "true", 4) == 0)
        *out = true;
    else if (value && strncmp(value, "false", 5) == 0)
        *out = false;
    else
        return false;
    return true;
}

/* Appends the UTF-8 encoding of `code` to out[*len], within `size`. */
static void put_utf8(char *out, size_t *len, size_t size, unsigned code) {
    char bytes[4];
    size_t n;
    if (code < 0x80) {
        bytes[0] = (char)code;
        n = 1;
    } else if (code < 0x800) {
        bytes[0] = (char)(0xC0 | code >> 6);
        bytes[1] = (char)(0x80 | (code & 0x3F));
        n = 2;
    } else if (code < 0x10000) {
        bytes[0] = (char)(0xE0 | code >> 12);
        bytes[1] = (char)(0x80 | (code >> 6 & 0x3F));
        bytes[2] = (char)(0x80 | (code & 0x3F));
        n = 3;
    } else {
        bytes[0] = (char)(0xF0 | code >> 18);
        bytes[1] = (char)(0x80 | (code >> 12 & 0x3F));
        bytes[2] = (char)(0x80 | (code >> 6 & 0x3F));
        bytes[3] = (char)(0x80 | (code & 0x3F));
        n = 4;
    }
    for (size_t i = 0; i < n && *len + 1 < size; i++)
        out[(*len)++] = bytes[i];
}

bool wl_json_string(const char *json, const char *path, char *out, size_t size) {
    const char *value = find(json, path);
    if (!value || *value != '"' || !skip_string(value) || size == 0)
        return false;
    size_t len = 0;
    for (const char *p = value + 1; *p != '"'; p++) {
        if (*p != '\\') {
            if (len + 1 < size)
                out[len++] = *p;
            continue;
        }
        unsigned code;
        p++;
        if (*p == 'u') {
            char hex[5] = {p[1], p[2], p[3], p[4], 0};
            code = (unsigned)strtoul(hex, NULL, 16);
            p += 4;
            // A surrogate pair is two escapes that make one code point.
            if (code >= 0xD800 && code < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
                char low_hex[5] = {p[3], p[4], p[5], p[6], 0};
                unsigned low = (unsigned)strtoul(low_hex, NULL, 16);
                if (low >= 0xDC00 && low < 0xE000) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    p += 6;
                }
            }
        } else {
            // Pairs of escape letter and the character it stands for.
            const char *escapes = "\"\"\\\\//b\bf\fn\nr\rt\t";
            code = (unsigned char)strchr(escapes, *p)[1];
        }
        put_utf8(out, &len, size, code);
    }
    out[len] = '\0';
    return true;
}
