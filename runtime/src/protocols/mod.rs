//! Host implementations of the guest-facing interfaces, one module each.

pub mod connect;
pub mod context;
pub mod events;
pub mod grpc;
pub mod http;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod wasi_http;
pub mod xmlrpc;

/// An error and its causes on one line: `outer: inner: root`, skipping a
/// cause whose text the line already holds.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Runs a socket operation for at most `limit`; past it the result is
/// `timed_out`, the interface's own timeout error.
pub(crate) async fn within<T, E>(
    limit: std::time::Duration,
    operation: impl std::future::Future<Output = Result<T, E>>,
    timed_out: E,
) -> Result<T, E> {
    tokio::time::timeout(limit, operation).await.unwrap_or(Err(timed_out))
}
