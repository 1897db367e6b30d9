//! A WebSocket echo server not written here: PyPI's `websockets`
//! (scripts/test-tools.sh installs it in its own venv), on a free loopback
//! port, offering the `chat.v1` subprotocol and counting what it got.
//! `GET /stats` answers the counts as JSON.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const SERVER: &str = r#"
import asyncio, collections, json
from http import HTTPStatus
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

counts = collections.Counter()
users = set()

async def process_request(connection, request):
    if request.path == "/stats":
        body = dict(counts, users=len(users))
        return connection.respond(HTTPStatus.OK, json.dumps(body) + "\n")

async def echo(socket):
    counts["connections"] += 1
    if socket.subprotocol:
        counts["subprotocol " + socket.subprotocol] += 1
    users.add(socket.request.headers.get("x-user"))
    try:
        async for message in socket:
            counts["text" if isinstance(message, str) else "binary"] += 1
            if message == "close, please":
                await socket.close(4000, "asked to")
            elif message != "silence":
                await socket.send(message)
    except ConnectionClosed:
        pass
    if socket.close_code == 1000:
        counts["closed normally"] += 1

async def main():
    async with serve(echo, "127.0.0.1", 0, subprotocols=["chat.v1"],
                     process_request=process_request) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"#;

/// A running `websockets` echo server; killed when dropped.
pub struct WebSocketServer {
    child: Child,
    port: u16,
}

/// The venv's python that has `websockets`.
fn python() -> PathBuf {
    let tools = std::env::var_os("WASMLOAD_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/wasmload-tools")
    });
    let python = tools.join("websockets/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/test-tools.sh", python.display());
    python
}

impl WebSocketServer {
    /// Starts the server and waits for its port.
    pub fn start() -> WebSocketServer {
        let mut child = Command::new(python())
            .args(["-c", SERVER])
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the websockets server");
        let stdout = child.stdout.take().expect("the server's stdout");
        let mut first_line = String::new();
        BufReader::new(stdout).read_line(&mut first_line).expect("the server's port");
        let port = first_line.trim().parse().expect("a port number from the server");
        WebSocketServer { child, port }
    }

    /// `ws://127.0.0.1:PORT/chat`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/chat", self.port)
    }

    /// What the server counted: `connections`, `text`, `binary`,
    /// `closed normally`, `subprotocol chat.v1`, `users` (distinct `x-user`).
    pub fn stats(&self) -> serde_json::Value {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).expect("connecting to the server");
        stream
            .write_all(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .expect("asking for the stats");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("the stats");
        let body = response.split("\r\n\r\n").nth(1).expect("a body");
        serde_json::from_str(body).expect("JSON stats")
    }

    /// One count of [`WebSocketServer::stats`], 0 when absent.
    pub fn count(&self, key: &str) -> u64 {
        self.stats()[key].as_u64().unwrap_or(0)
    }
}

impl Drop for WebSocketServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
