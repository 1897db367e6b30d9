//! A chatter on a WebSocket echo service: each exchange (a text line, a
//! binary frame, a ping) is one event of type `ws`, timed by the host.
//! The connection offers the `chat.v1` subprotocol and says which user it
//! is in a header.
//!
//! Run with `--host ws://127.0.0.1:8765/chat`.

use std::time::Duration;

use wasmload_sdk::prelude::*;
use wasmload_sdk::websocket::{Message, Options};

struct Chatter {
    socket: websocket::Connection,
}

impl User for Chatter {
    fn class() -> Class<Self> {
        Class::new("chatter")
            .wait(Wait::constant(Duration::from_millis(wait_ms())))
            .task(Task::new("say", Self::say).weight(3))
            .task(Task::new("upload", Self::upload))
            .task(Task::new("ping", Self::ping))
    }

    fn on_start() -> Result<Self> {
        let options = Options {
            headers: vec![("x-user".into(), context::user_id().to_string())],
            subprotocols: vec!["chat.v1".into()],
            timeout: None,
        };
        let socket = websocket::connect_with("", options)?;
        ensure(socket.subprotocol().as_deref() == Some("chat.v1"), "no chat.v1 subprotocol")?;
        Ok(Chatter { socket })
    }

    fn on_stop(&mut self) -> Result<()> {
        self.socket.close("done")?;
        Ok(())
    }
}

/// `-e WAIT_MS=...`: the pause after each task (default 100 ms).
fn wait_ms() -> u64 {
    context::param_or("WAIT_MS", "100").parse().unwrap_or(100)
}

impl Chatter {
    fn say(&mut self) -> Result<()> {
        let line = format!("hello from user {}", context::user_id());
        let reply = self.socket.request("say", Message::Text(line.clone()))?;
        ensure(reply.as_text() == Some(&line), "the echo differs")
    }

    fn upload(&mut self) -> Result<()> {
        let frame: Vec<u8> = (0..=255).collect();
        let reply = self.socket.request("upload", Message::Binary(frame.clone()))?;
        ensure(reply.as_bytes() == frame, "the binary echo differs")
    }

    fn ping(&mut self) -> Result<()> {
        self.socket.ping()?;
        Ok(())
    }
}

wasmload_sdk::users!(Chatter);
