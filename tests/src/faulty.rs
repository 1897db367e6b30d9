//! A raw TCP server that misbehaves as HTTP, by request path:
//! `/reset` sends half a response then resets the connection, `/garbage`
//! answers with bytes that are not HTTP, `/silent` never answers (and counts
//! the connections the client closed), and `/huge` sends a 5 MiB body.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::background::Background;

/// The size of the `/huge` body.
pub const HUGE_BODY: usize = 5 << 20;

/// A running faulty server; stops when dropped.
pub struct FaultyServer {
    server: Background,
    silent_closed: Arc<AtomicU64>,
}

impl FaultyServer {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start() -> FaultyServer {
        let silent_closed = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&silent_closed);
        let server = Background::start("127.0.0.1:0", move |listener| serve(listener, counter))
            .expect("starting the faulty server");
        FaultyServer { server, silent_closed }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Connections the client closed while waiting on `/silent`.
    pub fn silent_closed(&self) -> u64 {
        self.silent_closed.load(Ordering::Relaxed)
    }
}

async fn serve(listener: TcpListener, silent_closed: Arc<AtomicU64>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(misbehave(stream, Arc::clone(&silent_closed)));
        }
    }
}

async fn misbehave(mut stream: TcpStream, silent_closed: Arc<AtomicU64>) {
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
        "/silent" => {
            // Reads until the client closes (or an hour passes).
            let closed = tokio::time::timeout(Duration::from_secs(3600), async {
                while let Ok(1..) = stream.read(&mut buffer).await {}
            });
            if closed.await.is_ok() {
                silent_closed.fetch_add(1, Ordering::Relaxed);
            }
        }
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
