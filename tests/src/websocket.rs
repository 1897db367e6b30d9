//! A WebSocket echo server not written here: PyPI's `websockets`
//! (scripts/test-tools.sh installs it in its own venv), on a free loopback
//! port, offering the `chat.v1` subprotocol and counting what it got.
//! `GET /stats` answers the counts as JSON.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const SERVER: &str = r#"
import asyncio, collections, json, ssl, sys
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
    tls = None
    if len(sys.argv) == 3:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[1], sys.argv[2])
    async with serve(echo, "127.0.0.1", 0, subprotocols=["chat.v1"],
                     process_request=process_request, ssl=tls) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"#;

/// A running `websockets` echo server; killed when dropped.
pub struct WebSocketServer {
    child: Child,
    port: u16,
    /// A TLS server's certificate (PEM) and the directory of its files.
    tls: Option<(String, PathBuf)>,
}

/// The venv's python that has `websockets`.
fn python() -> PathBuf {
    crate::runner::tool("websockets/bin/python")
}

impl WebSocketServer {
    /// Starts the server and waits for its port.
    pub fn start() -> WebSocketServer {
        Self::start_with(None)
    }

    /// Starts a `wss://` server whose certificate, for `127.0.0.1`, no one
    /// trusts but [`WebSocketServer::certificate_pem`].
    pub fn start_tls() -> WebSocketServer {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])
            .expect("generating a certificate");
        let dir = std::env::temp_dir().join(format!(
            "wasmload-websocket-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the certificate");
        let pem = certified.cert.pem();
        std::fs::write(dir.join("cert.pem"), &pem).expect("writing the certificate");
        std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem())
            .expect("writing the key");
        Self::start_with(Some((pem, dir)))
    }

    fn start_with(tls: Option<(String, PathBuf)>) -> WebSocketServer {
        let mut command = Command::new(python());
        command.args(["-c", SERVER]);
        if let Some((_, dir)) = &tls {
            command.arg(dir.join("cert.pem")).arg(dir.join("key.pem"));
        }
        let mut child =
            command.stdout(Stdio::piped()).spawn().expect("starting the websockets server");
        let stdout = child.stdout.take().expect("the server's stdout");
        let mut first_line = String::new();
        BufReader::new(stdout).read_line(&mut first_line).expect("the server's port");
        let port = first_line.trim().parse().expect("a port number from the server");
        WebSocketServer { child, port, tls }
    }

    /// `ws://127.0.0.1:PORT/chat`, or `wss://` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://127.0.0.1:{}/chat", self.port)
    }

    /// A TLS server's certificate, PEM-encoded.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|(pem, _)| pem.as_str())
    }

    /// What the server counted: `connections`, `text`, `binary`,
    /// `closed normally`, `subprotocol chat.v1`, `users` (distinct `x-user`).
    pub fn stats(&self) -> serde_json::Value {
        let response = if self.tls.is_some() {
            // Python's own client for the TLS server, trusting nothing.
            let script = "import ssl, sys, urllib.request; \
                sys.stdout.write(urllib.request.urlopen(sys.argv[1], \
                context=ssl._create_unverified_context()).read().decode())";
            let url = format!("https://127.0.0.1:{}/stats", self.port);
            let output = Command::new(python()).args(["-c", script, &url]).output();
            let output = output.expect("asking for the stats");
            format!("\r\n\r\n{}", String::from_utf8_lossy(&output.stdout))
        } else {
            let mut stream =
                TcpStream::connect(("127.0.0.1", self.port)).expect("connecting to the server");
            stream
                .write_all(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .expect("asking for the stats");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("the stats");
            response
        };
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
        if let Some((_, dir)) = &self.tls {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
