//! Host bindings generated from `wit/`, the contract with guests.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "user",
    // Only calls that wait on the network or the clock are async: a sync
    // import avoids boxing a future per call.
    imports: {
        "wasmload:user/http.send": async | trappable,
        "wasmload:user/grpc": async | trappable,
        "wasmload:user/xmlrpc.call": async | trappable,
        "wasmload:user/tcp": async | trappable,
        "wasmload:user/udp": async | trappable,
        "wasmload:user/postgres": async | trappable,
        "wasmload:user/websocket": async | trappable,
        "wasmload:user/mqtt": async | trappable,
        "wasmload:user/context.sleep": async | trappable,
        default: trappable,
    },
    exports: { default: async },
    with: {
        "wasmload:user/http.response": crate::protocols::http::Response,
        "wasmload:user/events.timer": crate::protocols::events::Timer,
        "wasmload:user/tcp.connection": crate::protocols::tcp::Connection,
        "wasmload:user/udp.socket": crate::protocols::udp::Socket,
        "wasmload:user/postgres.connection": crate::protocols::postgres::Connection,
        "wasmload:user/postgres.statement": crate::protocols::postgres::Statement,
        "wasmload:user/websocket.connection": crate::protocols::websocket::Connection,
        "wasmload:user/mqtt.connection": crate::protocols::mqtt::Connection,
    },
});

pub use exports::wasmload::user::behaviour::{LoadTarget, UserClass, UserTarget, WaitTime};
pub use wasmload::user::{
    context, events, grpc, http, mqtt, postgres, tcp, udp, websocket, xmlrpc,
};
