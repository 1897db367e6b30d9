//! Python's standard `http.server`, answering HTTP/1.1 in the ways a
//! client's exchange must get right, by path, and counting what it served:
//! `/chunked` (chunk extensions and a trailer), `/continue` (103 and 100
//! before the answer), `/length` (12 bytes; HEAD gives none),
//! `/close` (`Connection: close`), `/until-close` (no length: the body
//! ends with the connection), `/extra` (bytes after the answer: the
//! connection must not be used again), `/cut` (closes after 10 of 100
//! bytes) and `/huge-head` (a 70 KiB header).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;

const SERVER: &str = r#"
import collections, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
served, connections, lock = collections.Counter(), collections.Counter(), threading.Lock()

class Edges(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def setup(self):
        super().setup()
        self.first = True
    def count(self):
        path = self.path.split("?")[0]
        with lock:
            served[self.command + " " + path] += 1
            if self.first:
                connections[path] += 1
        self.first = False
        return path
    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
    def do_HEAD(self):
        self.do_GET()
    def do_POST(self):
        path = self.count()
        if path == "/continue":
            self.raw(b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n")
            self.raw(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    def do_GET(self):
        if self.path == "/counts":
            with lock:
                answer = json.dumps({"served": served, "connections": connections}).encode()
            return self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
        path = self.count()
        head = self.command == "HEAD"
        if path == "/chunked":
            self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n")
            if not head:
                self.raw(b"5;name=value\r\nhello\r\n1\r\n \r\n6\r\nchunks\r\n0\r\nX-Sum: 12\r\n\r\n")
        elif path == "/length":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n" + (b"" if head else b"hello world\n"))
        elif path == "/close":
            self.raw(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nclose")
            self.close_connection = True
        elif path == "/until-close":
            self.raw(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 20000)
            self.close_connection = True
        elif path == "/extra":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextraHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwrong")
        elif path == "/cut":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"y" * 10)
            self.close_connection = True
        elif path == "/huge-head":
            self.raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"z" * 70000 + b"\r\nContent-Length: 2\r\n\r\nok")
        else:
            self.raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

server = ThreadingHTTPServer(("127.0.0.1", 0), Edges)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A running edge-case server (python3); killed when dropped.
pub struct EdgeServer {
    child: Child,
    port: u16,
}

impl EdgeServer {
    /// Starts the server and waits for its port.
    pub fn start() -> EdgeServer {
        let (child, port) = crate::runner::python_server(SERVER, "the edge-case HTTP server");
        EdgeServer { child, port }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What it served: `{"served": {"GET /path": n}, "connections": {"/path": n}}`,
    /// connections counted by the path of their first request.
    pub fn counts(&self) -> serde_json::Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connecting");
        stream.write_all(b"GET /counts HTTP/1.0\r\n\r\n").expect("asking for the counts");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reading the counts");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("counts {body:?}: {e}"))
    }
}

impl Drop for EdgeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
