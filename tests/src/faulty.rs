//! A raw TCP server that misbehaves as HTTP, by request path:
//! `/reset` sends half a response then resets the connection, `/garbage`
//! answers with bytes that are not HTTP, `/silent` never answers, and
//! `/huge` sends a 5 MiB body.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::background::Background;

/// The size of the `/huge` body.
pub const HUGE_BODY: usize = 5 << 20;

/// A running faulty server; stops when dropped.
pub struct FaultyServer {
    server: Background,
}

impl FaultyServer {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start() -> FaultyServer {
        let server = Background::start("127.0.0.1:0", serve).expect("starting the faulty server");
        FaultyServer { server }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }
}

async fn serve(listener: TcpListener) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(misbehave(stream));
        }
    }
}

async fn misbehave(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buffer = [0; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    match path.as_str() {
        "/reset" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf of it")
                .await;
            // Linger 0 makes the close a reset, not an orderly shutdown; it
            // cannot block here, as nothing is left unsent.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
        }
        "/garbage" => {
            let _ = stream.write_all(b"this is not HTTP at all\r\n\r\n").await;
        }
        "/silent" => tokio::time::sleep(Duration::from_secs(3600)).await,
        "/huge" => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {HUGE_BODY}\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&vec![b'x'; HUGE_BODY]).await;
        }
        _ => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
        }
    }
}
