//! A lean HTTP/1.1 exchange for plain-text connections, the hot path of a
//! load test. At rest a connection is its socket and nothing else: the
//! buffers of an exchange live only while it runs, where hyper's client
//! connection keeps about 28 KiB per connection (an 8 KiB write buffer, a
//! read buffer grown past 8 KiB, a dispatch channel block) and drives it
//! from a task of its own besides the request's, two more cross-task
//! wake-ups per request. TLS and HTTP/2 stay on hyper.
//!
//! One request at a time per connection (no pipelining). Framing as RFC
//! 9112 section 6.3 orders it; 1xx answers are skipped; a connection is
//! kept only when the answer's length was known and nothing followed it.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::sandbox::ConnectionPermit;

/// The largest response head read (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// The most headers a response head may have.
const MAX_HEADERS: usize = 100;
/// What one read asks the socket for.
const READ_SIZE: usize = 8 * 1024;

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// A kept connection ended before any of the answer came: the server
    /// closed it while idle. The request may be sent again elsewhere.
    #[error("the server closed the kept connection")]
    Stale,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server broke HTTP/1.1.
    #[error("{0}")]
    Protocol(String),
    /// The body is over the limit.
    #[error("response body larger than {0} bytes (--max-body)")]
    TooLarge(usize),
}

/// A plain-text HTTP/1.1 connection, and the user's permit for it.
pub struct Connection {
    stream: TcpStream,
    /// Set once a response has been read on it.
    used: bool,
    /// False once the connection cannot take another request.
    reusable: bool,
    _permit: ConnectionPermit,
}

impl Connection {
    /// A connection over `stream`, holding `permit` until it is dropped.
    pub fn new(stream: TcpStream, permit: ConnectionPermit) -> Self {
        Connection { stream, used: false, reusable: true, _permit: permit }
    }

    /// True when it cannot take another request: it said so, or the server
    /// closed it (or sent something unasked) while it was idle.
    pub fn is_closed(&self) -> bool {
        if !self.reusable {
            return true;
        }
        let mut probe = [0u8; 1];
        !matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Sends one request and reads the whole answer, its body at most
    /// `max_body` bytes.
    pub async fn exchange(
        &mut self,
        head: &Head<'_>,
        body: &[u8],
        max_body: usize,
    ) -> Result<Response<Bytes>, ExchangeError> {
        let method = head.method;
        let reused = self.used;
        self.used = true;
        // Until the answer has been read whole, the connection is not
        // fit for another request (a dropped exchange leaves it so).
        self.reusable = false;
        {
            // One write: head and body leave in one segment when they fit.
            let mut request = head.encode(body.len());
            request.extend_from_slice(body);
            self.stream.write_all(&request).await?;
        }
        // Allocated by the first read, once the answer is there (see `fill`).
        let mut buffer = BytesMut::new();
        let answer = loop {
            let answer = self.read_head(&mut buffer, reused).await?;
            // 1xx answers (100 Continue, 103 Early Hints) precede the answer.
            if !answer.status.is_informational() {
                break answer;
            }
            if answer.status == StatusCode::SWITCHING_PROTOCOLS {
                return Err(ExchangeError::Protocol("the server switched protocols".into()));
            }
        };
        let framing = Framing::of(method, &answer)?;
        let body = match framing {
            Framing::None => Bytes::new(),
            Framing::Length(length) => self.read_length(&mut buffer, length, max_body).await?,
            Framing::Chunked => self.read_chunked(&mut buffer, max_body).await?,
            Framing::UntilClose => self.read_until_close(&mut buffer, max_body).await?,
        };
        let request_closes = connection_has(head.headers, "close");
        self.reusable = framing != Framing::UntilClose
            && answer.keep_alive
            && !request_closes
            && buffer.is_empty();
        let mut response = Response::new(body);
        *response.status_mut() = answer.status;
        *response.version_mut() = answer.version;
        *response.headers_mut() = answer.headers;
        Ok(response)
    }

    /// Reads more into `buffer`; false at the end of the stream. It waits
    /// for the socket before it makes room: thousands of users waiting for
    /// their answers hold no read buffers.
    async fn fill(&mut self, buffer: &mut BytesMut) -> Result<bool, ExchangeError> {
        self.stream.readable().await?;
        buffer.reserve(READ_SIZE);
        // Through `AsyncRead`, not `try_read_buf`: after a read shorter than
        // the room it had, the socket is drained and tokio forgets its
        // readiness, so `is_closed` on the kept connection reads that instead
        // of making a system call that finds nothing.
        Ok(self.stream.read_buf(buffer).await? > 0)
    }

    async fn read_head(
        &mut self,
        buffer: &mut BytesMut,
        reused: bool,
    ) -> Result<ResponseHead, ExchangeError> {
        let mut first_read = true;
        loop {
            if !buffer.is_empty() {
                if let Some((head, length)) = parse_head(buffer)? {
                    buffer.advance(length);
                    return Ok(head);
                }
                if buffer.len() >= MAX_HEAD {
                    return Err(ExchangeError::Protocol(format!(
                        "response head over {MAX_HEAD} bytes"
                    )));
                }
            }
            if !self.fill(buffer).await? {
                return Err(if reused && first_read && buffer.is_empty() {
                    ExchangeError::Stale
                } else {
                    ExchangeError::Protocol(
                        "connection closed before the response head ended".into(),
                    )
                });
            }
            first_read = false;
        }
    }

    async fn read_length(
        &mut self,
        buffer: &mut BytesMut,
        length: u64,
        max_body: usize,
    ) -> Result<Bytes, ExchangeError> {
        let length = usize::try_from(length).ok().filter(|&n| n <= max_body);
        let length = length.ok_or(ExchangeError::TooLarge(max_body))?;
        while buffer.len() < length {
            if !self.fill(buffer).await? {
                return Err(ExchangeError::Protocol(format!(
                    "connection closed after {} of the body's {length} bytes",
                    buffer.len()
                )));
            }
        }
        Ok(buffer.split_to(length).freeze())
    }

    async fn read_until_close(
        &mut self,
        buffer: &mut BytesMut,
        max_body: usize,
    ) -> Result<Bytes, ExchangeError> {
        while self.fill(buffer).await? {
            if buffer.len() > max_body {
                return Err(ExchangeError::TooLarge(max_body));
            }
        }
        Ok(buffer.split().freeze())
    }

    /// A chunked body (RFC 9112 section 7.1), its extensions and trailers
    /// read and dropped.
    async fn read_chunked(
        &mut self,
        buffer: &mut BytesMut,
        max_body: usize,
    ) -> Result<Bytes, ExchangeError> {
        let mut body = BytesMut::new();
        loop {
            let line = self.read_line(buffer).await?;
            let size_text = line.split(|&byte| byte == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size_text)
                .ok()
                .and_then(|text| usize::from_str_radix(text.trim(), 16).ok())
                .ok_or_else(|| {
                    ExchangeError::Protocol("a chunk's size is not hexadecimal".into())
                })?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line(buffer).await?.is_empty() {}
                return Ok(body.freeze());
            }
            if body.len().saturating_add(size) > max_body {
                return Err(ExchangeError::TooLarge(max_body));
            }
            while buffer.len() < size + 2 {
                if !self.fill(buffer).await? {
                    return Err(ExchangeError::Protocol("connection closed inside a chunk".into()));
                }
            }
            body.extend_from_slice(&buffer[..size]);
            if &buffer[size..size + 2] != b"\r\n" {
                return Err(ExchangeError::Protocol("a chunk does not end with CRLF".into()));
            }
            buffer.advance(size + 2);
        }
    }

    /// One CRLF-ended line of a chunked body, without its end.
    async fn read_line(&mut self, buffer: &mut BytesMut) -> Result<Bytes, ExchangeError> {
        loop {
            if let Some(end) = buffer.windows(2).position(|pair| pair == b"\r\n") {
                let line = buffer.split_to(end).freeze();
                buffer.advance(2);
                return Ok(line);
            }
            if buffer.len() > MAX_HEAD {
                return Err(ExchangeError::Protocol("a chunk line or trailer is too long".into()));
            }
            if !self.fill(buffer).await? {
                return Err(ExchangeError::Protocol(
                    "connection closed inside a chunked body".into(),
                ));
            }
        }
    }
}

/// What a request line and headers are made of.
pub struct Head<'a> {
    pub method: &'a Method,
    /// In origin form: path and query.
    pub target: &'a str,
    /// Sent as `Host` unless `headers` have one.
    pub host: Option<&'a str>,
    pub headers: &'a HeaderMap,
}

impl Head<'_> {
    /// The request line and headers, with the body's length as the only
    /// framing: the body is sent whole, whatever the guest's headers said.
    fn encode(&self, body_len: usize) -> Vec<u8> {
        let mut head = Vec::with_capacity(256 + body_len);
        head.extend_from_slice(self.method.as_str().as_bytes());
        head.push(b' ');
        head.extend_from_slice(self.target.as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\n");
        if let (Some(host), false) = (self.host, self.headers.contains_key(HOST)) {
            header_line(&mut head, b"host", host.as_bytes());
        }
        for (name, value) in self.headers {
            if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
                header_line(&mut head, name.as_str().as_bytes(), value.as_bytes());
            }
        }
        if body_len > 0 || matches!(*self.method, Method::POST | Method::PUT | Method::PATCH) {
            header_line(&mut head, b"content-length", body_len.to_string().as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        head
    }
}

fn header_line(head: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    head.extend_from_slice(name);
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// A response's status line and headers.
struct ResponseHead {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    /// The server lets the connection be used again.
    keep_alive: bool,
}

/// The head at the start of `buffer` and its length, or None when more
/// bytes are needed.
fn parse_head(buffer: &[u8]) -> Result<Option<(ResponseHead, usize)>, ExchangeError> {
    // On the heap: pages of a user's stack stay resident.
    let mut slots = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut slots);
    let length = match parsed.parse(buffer) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => {
            return Err(ExchangeError::Protocol(format!("invalid response head: {error}")))
        }
    };
    let code = parsed.code.unwrap_or_default();
    let status = StatusCode::from_u16(code)
        .map_err(|_| ExchangeError::Protocol(format!("invalid status {code}")))?;
    let version = if parsed.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| {
            ExchangeError::Protocol(format!("invalid header name {:?}", header.name))
        })?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| ExchangeError::Protocol(format!("invalid value of header {name}")))?;
        headers.append(name, value);
    }
    let keep_alive = match version {
        Version::HTTP_10 => connection_has(&headers, "keep-alive"),
        _ => !connection_has(&headers, "close"),
    };
    Ok(Some((ResponseHead { status, version, headers, keep_alive }, length)))
}

/// True when a `Connection` header lists `option`.
fn connection_has(headers: &HeaderMap, option: &str) -> bool {
    headers.get_all(CONNECTION).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|text| text.split(',').any(|item| item.trim().eq_ignore_ascii_case(option)))
    })
}

/// How a response's body is delimited.
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Framing {
    fn of(method: &Method, head: &ResponseHead) -> Result<Framing, ExchangeError> {
        if method == Method::HEAD
            || head.status == StatusCode::NO_CONTENT
            || head.status == StatusCode::NOT_MODIFIED
        {
            return Ok(Framing::None);
        }
        if let Some(coding) = head.headers.get_all(TRANSFER_ENCODING).iter().next_back() {
            let chunked = coding
                .to_str()
                .ok()
                .and_then(|text| text.rsplit(',').next())
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            return Ok(if chunked { Framing::Chunked } else { Framing::UntilClose });
        }
        // Every value, and every item of a list, must be the same number.
        let invalid = || ExchangeError::Protocol("invalid or conflicting Content-Length".into());
        let mut length = None;
        for value in head.headers.get_all(CONTENT_LENGTH) {
            for item in value.to_str().map_err(|_| invalid())?.split(',') {
                let item = item.trim().parse::<u64>().map_err(|_| invalid())?;
                if length.is_some_and(|length| length != item) {
                    return Err(invalid());
                }
                length = Some(item);
            }
        }
        Ok(length.map_or(Framing::UntilClose, Framing::Length))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> ResponseHead {
        parse_head(text.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = Method::GET;
        let framing = |text: &str| Framing::of(&get, &head(text));
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n").unwrap(),
            Framing::Length(12)
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n").unwrap(),
            Framing::Length(5)
        );
        assert!(
            framing("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n").is_err()
        );
        assert!(framing("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n").is_err());
        let chunked =
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 3\r\n\r\n";
        assert_eq!(framing(chunked).unwrap(), Framing::Chunked);
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n").unwrap(),
            Framing::UntilClose
        );
        assert_eq!(framing("HTTP/1.1 200 OK\r\n\r\n").unwrap(), Framing::UntilClose);
        assert_eq!(
            framing("HTTP/1.1 204 No Content\r\ncontent-length: 3\r\n\r\n").unwrap(),
            Framing::None
        );
        let ok = head("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n");
        assert_eq!(Framing::of(&Method::HEAD, &ok).unwrap(), Framing::None);
    }

    #[test]
    fn keep_alive_depends_on_version_and_connection() {
        assert!(head("HTTP/1.1 200 OK\r\n\r\n").keep_alive);
        assert!(!head("HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n").keep_alive);
        assert!(!head("HTTP/1.0 200 OK\r\n\r\n").keep_alive);
        assert!(head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\n").keep_alive);
    }

    #[test]
    fn the_request_head_frames_the_body_itself() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("1"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("99"));
        let post = Head {
            method: &Method::POST,
            target: "/a?b",
            host: Some("example:81"),
            headers: &headers,
        };
        let text = String::from_utf8(post.encode(3)).unwrap();
        assert_eq!(
            text,
            "POST /a?b HTTP/1.1\r\nhost: example:81\r\nx-a: 1\r\ncontent-length: 3\r\n\r\n"
        );
        headers.insert(HOST, HeaderValue::from_static("given"));
        let get =
            Head { method: &Method::GET, target: "/", host: Some("example"), headers: &headers };
        let text = String::from_utf8(get.encode(0)).unwrap();
        assert_eq!(text, "GET / HTTP/1.1\r\nx-a: 1\r\nhost: given\r\n\r\n");
    }
}
