//! Python's standard `SimpleXMLRPCServer` with `add(a, b)` and `echo(v)`
//! registered, on a free loopback port, counting the calls it serves.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;

const SERVER: &str = r#"
import collections, sys
from xmlrpc.server import SimpleXMLRPCServer
served = collections.Counter()
def counted(name, function):
    def call(*args):
        served[name] += 1
        return function(*args)
    return call
server = SimpleXMLRPCServer(("127.0.0.1", 0), allow_none=True, logRequests=False)
server.register_function(counted("add", lambda a, b: a + b), "add")
server.register_function(counted("echo", lambda value: value), "echo")
server.register_function(lambda name: served[name], "served")
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A running XML-RPC server (python3); killed when dropped.
pub struct XmlRpcServer {
    child: Child,
    port: u16,
}

impl XmlRpcServer {
    /// Starts the server and waits for its port.
    pub fn start() -> XmlRpcServer {
        let (child, port) = crate::runner::python_server(SERVER, "the XML-RPC server");
        XmlRpcServer { child, port }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many calls of `method` the server has answered.
    pub fn served(&self, method: &str) -> u64 {
        let body = format!(
            "<?xml version=\"1.0\"?><methodCall><methodName>served</methodName><params>\
             <param><value><string>{method}</string></value></param></params></methodCall>"
        );
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).expect("connecting to the server");
        let request = format!(
            "POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("sending a request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reading the answer");
        let count = answer.split("<int>").nth(1).and_then(|rest| rest.split("</int>").next());
        count.and_then(|count| count.parse().ok()).unwrap_or_else(|| panic!("no count in {answer}"))
    }
}

impl Drop for XmlRpcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
