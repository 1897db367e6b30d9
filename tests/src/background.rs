//! A server's accept loop on a thread and runtime of its own, stopped when
//! its handle is dropped.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running server loop; stops when dropped.
pub struct Background {
    addr: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

impl Background {
    /// Binds `addr` and runs `serve` on the listener until dropped.
    pub fn start<F, Fut>(addr: &str, serve: F) -> std::io::Result<Background>
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name(format!("server-{addr}")).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                tokio::select! {
                    _ = serve(listener) => {}
                    _ = stopped => {}
                }
            });
        })?;
        Ok(Background { addr, _shutdown: shutdown })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
