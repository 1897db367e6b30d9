//! `grpc`: unary and server-streaming calls to any service, messages as
//! raw protobuf bytes, one HTTP/2 channel per endpoint per user.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes};
use http::uri::PathAndQuery;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::grpc::{self, CallOptions, Error, Reply, Status as GuestStatus};
use crate::protocols::connect::{self, Source};
use crate::protocols::{error_chain, Protocol, RunSetup, UserSetup};
use crate::sandbox::{ConnectionPermit, NetworkPolicy, UserBudget};
use crate::stats::{Recorder, RequestEvent};

/// Run-wide gRPC settings.
pub struct GrpcConfig {
    /// `--host`, used when a call names no endpoint.
    pub default_endpoint: Option<String>,
    /// Deadline of calls that give none.
    pub default_timeout: Duration,
    /// For `https://` endpoints.
    pub tls: rustls::ClientConfig,
    /// Where users may connect.
    pub network: Arc<NetworkPolicy>,
}

/// One user's gRPC state: a channel per endpoint it has called, each
/// holding one of the user's connections.
pub struct GrpcUser {
    config: Arc<GrpcConfig>,
    channels: HashMap<String, (Channel, ConnectionPermit)>,
    recorder: Recorder,
    budget: Arc<UserBudget>,
    source: Source,
}

/// The two call shapes.
#[derive(Clone, Copy)]
enum Shape {
    Unary,
    ServerStreaming,
}

impl Protocol for GrpcUser {
    type Config = GrpcConfig;

    /// Calls that name no endpoint go to `--host`.
    fn configure(run: &RunSetup<'_>) -> anyhow::Result<GrpcConfig> {
        Ok(GrpcConfig {
            default_endpoint: run
                .guest
                .host
                .as_ref()
                .map(|host| host.as_str().trim_end_matches('/').to_owned()),
            default_timeout: run.guest.timeout,
            tls: run.tls.clone(),
            network: Arc::clone(&run.sandbox.network),
        })
    }

    /// A user with no channels yet.
    fn for_user(config: &Arc<GrpcConfig>, user: &UserSetup<'_>) -> Self {
        GrpcUser {
            config: Arc::clone(config),
            channels: HashMap::new(),
            recorder: user.recorder.clone(),
            budget: Arc::clone(user.budget),
            source: user.source,
        }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        grpc::add_to_linker::<T, HasSelf<GrpcUser>>(linker, get)
    }
}

impl GrpcUser {
    /// Makes the call and records its event.
    async fn call(
        &mut self,
        shape: Shape,
        method: String,
        message: Vec<u8>,
        options: CallOptions,
    ) -> Result<Reply, Error> {
        let started = Instant::now();
        let outcome = self.exchange(shape, &method, message, options).await;
        let error = outcome.as_ref().err().map(describe);
        let length =
            outcome.as_ref().map_or(0, |reply| reply.messages.iter().map(Vec::len).sum::<usize>());
        self.recorder.record(&RequestEvent {
            kind: "grpc",
            name: &method,
            response_time: started.elapsed(),
            response_length: length as u64,
            error: error.as_deref(),
        });
        outcome
    }

    async fn exchange(
        &mut self,
        shape: Shape,
        method: &str,
        message: Vec<u8>,
        options: CallOptions,
    ) -> Result<Reply, Error> {
        let metadata_size: usize =
            options.metadata.iter().map(|(key, value)| key.len() + value.len()).sum();
        self.budget
            .check_call(method.len() + message.len() + metadata_size)
            .map_err(|exceeded| Error::InvalidRequest(exceeded.to_string()))?;
        let endpoint = options
            .endpoint
            .or_else(|| self.config.default_endpoint.clone())
            .ok_or_else(|| Error::InvalidRequest("no endpoint: give one or set --host".into()))?;
        let path = PathAndQuery::try_from(method)
            .ok()
            .filter(|path| path.path().starts_with('/') && path.path()[1..].contains('/'))
            .ok_or_else(|| {
                Error::InvalidRequest(format!("`{method}` is not /package.Service/Method"))
            })?;
        let mut request = tonic::Request::new(Bytes::from(message));
        *request.metadata_mut() = metadata(&options.metadata)?;
        let timeout = options.timeout_us.map_or(self.config.default_timeout, Duration::from_micros);
        request.set_timeout(timeout);
        let mut client = tonic::client::Grpc::new(self.channel(&endpoint)?);
        let call = async {
            client.ready().await.map_err(|e| Status::unavailable(error_chain(&e)))?;
            match shape {
                Shape::Unary => {
                    let response = client.unary(request, path, RawCodec).await?;
                    let (metadata, message, _) = response.into_parts();
                    Ok(Reply { messages: vec![message.to_vec()], metadata: pairs(metadata) })
                }
                Shape::ServerStreaming => {
                    let response = client.server_streaming(request, path, RawCodec).await?;
                    let (metadata, mut stream, _) = response.into_parts();
                    let mut messages = Vec::new();
                    // The reply is gathered on the host: it counts toward the user's memory.
                    let mut held = self.budget.hold(0).map_err(exhausted)?;
                    let mut bytes = 0;
                    while let Some(message) = stream.message().await? {
                        bytes += message.len();
                        held.resize(bytes).map_err(exhausted)?;
                        messages.push(message.to_vec());
                    }
                    let mut metadata = pairs(metadata);
                    metadata.extend(stream.trailers().await?.map(pairs).unwrap_or_default());
                    Ok(Reply { messages, metadata })
                }
            }
        };
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| Err(Status::deadline_exceeded("deadline exceeded")))
            .map_err(|status: Status| {
                Error::Status(GuestStatus {
                    code: status.code() as u32,
                    message: status.message().to_owned(),
                })
            })
    }

    /// This user's channel to `endpoint`, opened on first use.
    fn channel(&mut self, endpoint: &str) -> Result<Channel, Error> {
        if let Some((channel, _)) = self.channels.get(endpoint) {
            return Ok(channel.clone());
        }
        let target = Endpoint::from_shared(endpoint.to_owned())
            .map_err(|e| Error::InvalidRequest(format!("bad endpoint `{endpoint}`: {e}")))?;
        let uri = target.uri();
        let port =
            uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
        self.config.network.check_target(uri.host().unwrap_or_default(), port).map_err(
            |denied| {
                Error::Status(GuestStatus {
                    code: Code::PermissionDenied as u32,
                    message: denied.to_string(),
                })
            },
        )?;
        let permit = self.budget.connect().map_err(|exceeded| {
            Error::Status(GuestStatus {
                code: Code::ResourceExhausted as u32,
                message: exceeded.to_string(),
            })
        })?;
        let tcp = connect::TcpConnector::new(&self.config.network, self.source);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(self.config.tls.clone())
            .https_or_http()
            .enable_http2()
            .wrap_connector(tcp);
        let channel = target.connect_with_connector_lazy(connector);
        self.channels.insert(endpoint.to_owned(), (channel.clone(), permit));
        Ok(channel)
    }
}

impl grpc::Host for GrpcUser {
    async fn unary(
        &mut self,
        method: String,
        message: Vec<u8>,
        options: CallOptions,
    ) -> wasmtime::Result<Result<Reply, Error>> {
        Ok(self.call(Shape::Unary, method, message, options).await)
    }

    async fn server_streaming(
        &mut self,
        method: String,
        message: Vec<u8>,
        options: CallOptions,
    ) -> wasmtime::Result<Result<Reply, Error>> {
        Ok(self.call(Shape::ServerStreaming, method, message, options).await)
    }
}

fn metadata(pairs: &[(String, String)]) -> Result<MetadataMap, Error> {
    let mut map = MetadataMap::new();
    for (key, value) in pairs {
        let key = MetadataKey::from_bytes(key.as_bytes())
            .map_err(|_| Error::InvalidRequest(format!("bad metadata key `{key}`")))?;
        let value = MetadataValue::try_from(value.as_str())
            .map_err(|_| Error::InvalidRequest(format!("bad metadata value for `{key}`")))?;
        map.append(key, value);
    }
    Ok(map)
}

fn pairs(metadata: MetadataMap) -> Vec<(String, String)> {
    metadata
        .into_headers()
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect()
}

/// A budget breach, as gRPC's own status for it.
fn exhausted(exceeded: crate::sandbox::Exceeded) -> Status {
    Status::resource_exhausted(exceeded.to_string())
}

/// The error's text in the stats: the status code's name and message.
fn describe(error: &Error) -> String {
    match error {
        Error::Status(status) => {
            format!("{:?}: {}", Code::from(status.code as i32), status.message)
        }
        Error::InvalidRequest(reason) => format!("invalid request: {reason}"),
    }
}

/// Passes messages through as bytes: the guest encodes and decodes them.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
