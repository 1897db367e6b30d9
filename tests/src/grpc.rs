//! A tonic gRPC server with the canonical `helloworld.Greeter` service:
//! `SayHello` (unary) and `SayHelloStream` (three replies), counting calls.
//! An empty name is refused with `INVALID_ARGUMENT`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tonic::server::{Grpc, ServerStreamingService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

use crate::background::Background;

/// `message HelloRequest { string name = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `message HelloReply { string message = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    #[prost(string, tag = "1")]
    pub message: String,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, Status>> + Send>>;

/// A running gRPC server; stops when dropped.
pub struct GrpcServer {
    server: Background,
    calls: Arc<Mutex<HashMap<String, u64>>>,
}

impl GrpcServer {
    /// Starts the server on a free port of 127.0.0.1 (HTTP/2, no TLS).
    pub fn start() -> GrpcServer {
        let calls = Arc::new(Mutex::new(HashMap::new()));
        let greeter = Greeter { calls: Arc::clone(&calls) };
        let server = Background::start("127.0.0.1:0", move |listener| serve(listener, greeter))
            .expect("starting the gRPC server");
        GrpcServer { server, calls }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Calls received for `path` (`/helloworld.Greeter/SayHello`).
    pub fn calls(&self, path: &str) -> u64 {
        self.calls.lock().expect("call counts").get(path).copied().unwrap_or(0)
    }
}

async fn serve(listener: TcpListener, greeter: Greeter) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(greeter.clone());
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .http2_only()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[derive(Clone)]
struct Greeter {
    calls: Arc<Mutex<HashMap<String, u64>>>,
}

impl<B> tower_service::Service<http::Request<B>> for Greeter
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        *self.calls.lock().expect("call counts").entry(path.clone()).or_default() += 1;
        Box::pin(async move {
            let mut grpc = Grpc::new(ProstCodec::<HelloReply, HelloRequest>::default());
            Ok(match path.as_str() {
                "/helloworld.Greeter/SayHello" => grpc.unary(SayHello, request).await,
                "/helloworld.Greeter/SayHelloStream" => {
                    grpc.server_streaming(SayHelloStream, request).await
                }
                _ => Status::unimplemented(format!("no method {path}")).into_http(),
            })
        })
    }
}

fn greeting(request: &HelloRequest) -> Result<String, Status> {
    if request.name.is_empty() {
        return Err(Status::invalid_argument("name is empty"));
    }
    Ok(format!("Hello {}", request.name))
}

struct SayHello;

impl UnaryService<HelloRequest> for SayHello {
    type Response = HelloReply;
    type Future = BoxFuture<Response<HelloReply>>;

    fn call(&mut self, request: Request<HelloRequest>) -> Self::Future {
        Box::pin(
            async move { Ok(Response::new(HelloReply { message: greeting(request.get_ref())? })) },
        )
    }
}

struct SayHelloStream;

impl ServerStreamingService<HelloRequest> for SayHelloStream {
    type Response = HelloReply;
    type ResponseStream = tokio_stream::Iter<std::vec::IntoIter<Result<HelloReply, Status>>>;
    type Future = BoxFuture<Response<Self::ResponseStream>>;

    fn call(&mut self, request: Request<HelloRequest>) -> Self::Future {
        Box::pin(async move {
            let greeting = greeting(request.get_ref())?;
            let replies = (1..=3)
                .map(|n| Ok(HelloReply { message: format!("{greeting} #{n}") }))
                .collect::<Vec<_>>();
            Ok(Response::new(tokio_stream::iter(replies)))
        })
    }
}
