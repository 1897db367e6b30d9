//! Host implementations of the guest-facing interfaces, one module each.
//!
//! Every protocol has one shape: run-wide settings made once from the run's
//! spec, per-user state made for each user, and host functions added to the
//! linker. A protocol is one module implementing [`Protocol`] and one line in
//! the [`protocols!`] list below; the bindings (`crate::bindings`) say which
//! of its calls are async and which Rust types stand for its resources.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, ResourceTable};

use crate::protocols::connect::Source;
use crate::run::{GuestSpec, RunLog};
use crate::sandbox::{budgeted_table, Sandbox, UserBudget};
use crate::stats::{Recorder, RequestEvent};

pub mod connect;
pub mod context;
pub mod events;
pub mod grpc;
pub mod http;
pub mod mqtt;
pub mod postgres;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod wasi_http;
pub mod websocket;
pub mod xmlrpc;

/// What a protocol's run-wide settings are made from.
pub struct RunSetup<'a> {
    /// The run's guest options (`--host`, `--timeout`, parameters, seed).
    pub guest: &'a GuestSpec,
    /// What guests may reach and hold.
    pub sandbox: &'a Sandbox,
    /// The run's TLS client settings (`--ca-file`, `--insecure`).
    pub tls: &'a rustls::ClientConfig,
}

/// What one user's state of a protocol is made from.
pub struct UserSetup<'a> {
    /// The user's id, unique in the test.
    pub user_id: u64,
    /// Where the user's events go.
    pub recorder: &'a Recorder,
    /// The user's budgets and what it uses of them.
    pub budget: &'a Arc<UserBudget>,
    /// The local address the user's connections go out from.
    pub source: Source,
    /// Where the run's messages go.
    pub log: &'a RunLog,
}

/// What a protocol that holds connections keeps for one user besides its
/// settings: the resources it holds, where its events go, its budget, and
/// the address its connections leave from.
pub struct UserSockets {
    /// Its open connections (and the like), as many as `--max-resources`.
    pub table: ResourceTable,
    /// Where its events go.
    pub recorder: Recorder,
    /// Its budgets and what it uses of them.
    pub budget: Arc<UserBudget>,
    /// The local address its connections go out from.
    pub source: Source,
}

impl UserSockets {
    /// A user's, holding nothing yet.
    pub fn new(user: &UserSetup<'_>) -> Self {
        UserSockets {
            table: budgeted_table(user.budget.budgets().max_resources),
            recorder: user.recorder.clone(),
            budget: Arc::clone(user.budget),
            source: user.source,
        }
    }

    /// Records one event of `kind`, failed when `error` says why.
    pub fn record(
        &self,
        kind: &str,
        name: &str,
        started: Instant,
        length: u64,
        error: Option<String>,
    ) {
        self.recorder.record(&RequestEvent {
            kind,
            name,
            response_time: started.elapsed(),
            response_length: length,
            error: error.as_deref(),
        });
    }
}

/// `timeout_us` as a duration, or `default` when the guest gave none.
pub(crate) fn timeout_or(default: Duration, timeout_us: Option<u64>) -> Duration {
    timeout_us.map_or(default, Duration::from_micros)
}

/// One protocol, implemented by its per-user state.
pub trait Protocol: Send + Sized + 'static {
    /// Run-wide settings, shared by every user.
    type Config: Send + Sync + 'static;

    /// The run-wide settings for a run set up as `run`.
    fn configure(run: &RunSetup<'_>) -> anyhow::Result<Self::Config>;

    /// A new user's state.
    fn for_user(config: &Arc<Self::Config>, user: &UserSetup<'_>) -> Self;

    /// Adds the protocol's interfaces to `linker`, reaching the state
    /// through `get`.
    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()>;
}

/// A store's data that holds every protocol's user state.
pub trait HasProtocols {
    /// The user's state of every protocol.
    fn protocols(&mut self) -> &mut ProtocolUsers;
}

/// Declares the protocols: their settings, their user state, their linking.
macro_rules! protocols {
    ($($field:ident: $user:ty),* $(,)?) => {
        /// Every protocol's run-wide settings.
        #[derive(Clone)]
        pub struct ProtocolConfigs {
            $(#[doc = concat!("`", stringify!($field), "`'s settings.")]
            pub $field: Arc<<$user as Protocol>::Config>,)*
        }

        impl ProtocolConfigs {
            /// Every protocol's settings for a run set up as `run`.
            pub fn new(run: &RunSetup<'_>) -> anyhow::Result<Self> {
                Ok(ProtocolConfigs { $($field: Arc::new(<$user>::configure(run)?),)* })
            }
        }

        /// One user's state of every protocol.
        pub struct ProtocolUsers {
            $(#[doc = concat!("The user's `", stringify!($field), "` state.")]
            pub $field: $user,)*
        }

        impl ProtocolUsers {
            /// A new user's state of every protocol.
            pub fn new(configs: &ProtocolConfigs, user: &UserSetup<'_>) -> Self {
                ProtocolUsers { $($field: <$user>::for_user(&configs.$field, user),)* }
            }
        }

        /// Adds every protocol's interfaces to `linker`.
        pub fn add_to_linker<T: HasProtocols + Send + 'static>(
            linker: &mut Linker<T>,
        ) -> wasmtime::Result<()> {
            $(<$user>::add_to_linker(linker, |state: &mut T| &mut state.protocols().$field)?;)*
            Ok(())
        }
    };
}

protocols! {
    http: http::HttpUser,
    grpc: grpc::GrpcUser,
    tcp: tcp::TcpUser,
    udp: udp::UdpUser,
    postgres: postgres::PostgresUser,
    websocket: websocket::WebSocketUser,
    mqtt: mqtt::MqttUser,
    events: events::EventsUser,
    context: context::ContextUser,
}

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
