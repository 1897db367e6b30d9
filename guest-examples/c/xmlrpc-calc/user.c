/* A client of an XML-RPC calculator (`add(a, b)`, `echo(value)`), e.g.
 * Python's `SimpleXMLRPCServer` with those two functions, at `--host`.
 * Values travel as the WIT's pre-order node list. */

#include "wasmload.h"

static wl_status add(void) {
    int32_t a = (int32_t)wl_random_range(0, 1000), b = (int32_t)wl_random_range(0, 1000);
    const wl_xml params[] = {wl_xml_int(a), wl_xml_int(b)};
    const wl_xml *sum;
    size_t count;
    WL_TRY(wl_xmlrpc_call("/RPC2", "add", params, 2, &sum, &count));
    WL_ENSURE(count == 1 && sum[0].tag == WASMLOAD_USER_XMLRPC_NODE_INT && sum[0].val.int_ == a + b,
              "wrong sum for %d + %d", a, b);
    return WL_OK;
}

/* Sends one value of every type and checks it comes back unchanged. */
static wl_status echo(void) {
    static const char *const names[] = {"user", "name", "ratio", "active", "when", "blob", "nothing", "tags", "empty"};
    static const unsigned char blob[] = {0, 1, 2, 255};
    const wl_xml value[] = {
        wl_xml_struct(names, 9),
        wl_xml_int((int32_t)wl_user_id()),
        wl_xml_string("<caf\xc3\xa9 & tea>"),
        wl_xml_double(0.25),
        wl_xml_bool(true),
        wl_xml_datetime("20261125T12:30:00"),
        wl_xml_base64(blob, sizeof blob),
        wl_xml_nil(),
        wl_xml_array(2),
        wl_xml_string("a"),
        wl_xml_string("b"),
        wl_xml_array(0),
    };
    size_t count = sizeof value / sizeof value[0], echoed_count;
    const wl_xml *echoed;
    WL_TRY(wl_xmlrpc_call("/RPC2", "echo", value, count, &echoed, &echoed_count));
    WL_ENSURE(wl_xml_equal(value, count, echoed, echoed_count), "echo changed the value");
    return WL_OK;
}

static const wl_task tasks[] = {{"add", add, 3}, {"echo", echo, 1}};

WL_USERS({.name = "calculator", WL_TASKS(tasks)});
