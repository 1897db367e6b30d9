//! Fails in each way the WebSocket interface names: a reply that never
//! comes, a server that closes, an address the sandbox refuses. A check
//! that does not hold fails the task, so the run's task errors say which.

use std::time::Duration;

use wasmload_sdk::prelude::*;
use wasmload_sdk::websocket::{Message, Options, WebSocketError};

struct Prober {
    socket: websocket::Connection,
}

impl User for Prober {
    fn class() -> Class<Self> {
        Class::new("prober").task(Task::new("probe", Self::probe))
    }

    fn on_start() -> Result<Self> {
        let mut socket = chat()?;
        socket.set_timeout(Duration::from_millis(200));
        Ok(Prober { socket })
    }
}

/// A connection to `--host` in the `chat.v1` subprotocol, which the
/// server insists on.
fn chat() -> Result<websocket::Connection, WebSocketError> {
    let options = Options { subprotocols: vec!["chat.v1".into()], ..Options::default() };
    websocket::connect_with("", options)
}

impl Prober {
    fn probe(&mut self) -> Result<()> {
        match self.socket.request("silence", Message::Text("silence".into())) {
            Err(WebSocketError::Timeout) => {}
            other => return Err(Error::msg(format!("silence answered: {other:?}"))),
        }
        let mut closing = chat()?;
        match closing.request("closing", Message::Text("close, please".into())) {
            Err(WebSocketError::Closed(reason)) if reason.contains("4000 asked to") => {}
            other => return Err(Error::msg(format!("no close: {other:?}"))),
        }
        let denied = context::param_or("DENIED_URL", "");
        match websocket::connect(&denied) {
            Err(WebSocketError::InvalidAddress(_)) => Ok(()),
            other => Err(Error::msg(format!("{denied} was reachable: {}", other.is_ok()))),
        }
    }
}

wasmload_sdk::users!(Prober);
