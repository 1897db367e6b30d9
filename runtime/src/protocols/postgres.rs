//! `postgres`: PostgreSQL connections through tokio-postgres, statements
//! with typed parameters, rows back as typed values, one event per
//! statement.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Statement as Prepared};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_stream::StreamExt;
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::postgres::{
    self, ConnectOptions, Error, Rows, ServerError, StatementOptions, Value,
};
use crate::protocols::connect::{self, Source};
use crate::protocols::{
    error_chain, timeout_or, within, Protocol, RunSetup, UserSetup, UserSockets,
};
use crate::sandbox::{push_budgeted, ConnectionPermit, Exceeded, NetworkPolicy, UserBudget};

/// PostgreSQL's own port, for URLs that name none.
const DEFAULT_PORT: u16 = 5432;
/// Characters of a statement's text kept in its event's name.
const MAX_NAME_CHARS: usize = 60;
/// Bytes a value is counted as on top of its contents, for the budget of
/// rows held for a user.
const VALUE_OVERHEAD: usize = 16;

/// Run-wide PostgreSQL settings.
pub struct PostgresConfig {
    /// `--host`, when it is a `postgres://` URL: used by `connect("")`.
    default_url: Option<String>,
    /// Used when a call gives no timeout.
    default_timeout: Duration,
    /// For URLs that ask for TLS; certificates are checked as for HTTPS.
    tls: MakeRustlsConnect,
    /// Where users may connect.
    network: Arc<NetworkPolicy>,
}

/// One user's PostgreSQL state: its connections and prepared statements.
pub struct PostgresUser {
    config: Arc<PostgresConfig>,
    sockets: UserSockets,
}

/// An open connection; its socket is driven by a task of its own, which
/// holds the user's connection permit until the socket is closed.
pub struct Connection {
    client: Arc<Client>,
}

/// A statement prepared on one connection, and its event's name.
pub struct Statement {
    client: Arc<Client>,
    prepared: Prepared,
    name: String,
}

impl Protocol for PostgresUser {
    type Config = PostgresConfig;

    fn configure(run: &RunSetup<'_>) -> anyhow::Result<PostgresConfig> {
        let default_url = run
            .guest
            .host
            .as_ref()
            .filter(|url| matches!(url.scheme(), "postgres" | "postgresql"))
            .map(|url| url.as_str().to_owned());
        Ok(PostgresConfig {
            default_url,
            default_timeout: run.guest.timeout,
            tls: MakeRustlsConnect::new(run.tls.clone()),
            network: Arc::clone(&run.sandbox.network),
        })
    }

    /// A user with no connections yet.
    fn for_user(config: &Arc<PostgresConfig>, user: &UserSetup<'_>) -> Self {
        PostgresUser { config: Arc::clone(config), sockets: UserSockets::new(user) }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        postgres::add_to_linker::<T, HasSelf<PostgresUser>>(linker, get)
    }
}

impl PostgresUser {
    fn timeout(&self, timeout_us: Option<u64>) -> Duration {
        timeout_or(self.config.default_timeout, timeout_us)
    }

    fn record(&self, name: &str, started: Instant, length: u64, error: Option<&Error>) {
        self.sockets.record("postgres", name, started, length, error.map(describe));
    }
}

/// Connects as `url` asks, from `source`, within the sandbox and the
/// user's connection `budget`.
async fn open(
    settings: &PostgresConfig,
    budget: &Arc<UserBudget>,
    source: Source,
    url: &str,
) -> Result<Client, Error> {
    let url = match (url, &settings.default_url) {
        ("", Some(host)) => host.as_str(),
        ("", None) => {
            return Err(Error::InvalidAddress(
                "no URL given, and --host is not a postgres:// URL".into(),
            ))
        }
        (url, _) => url,
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::InvalidAddress("the URL does not start with postgres://".into()));
    }
    // The error does not repeat the URL: it may hold a password.
    let config: Config =
        url.parse().map_err(|e| Error::InvalidAddress(format!("not a PostgreSQL URL: {e}")))?;
    let host = match config.get_hosts() {
        [Host::Tcp(host)] => host.clone(),
        _ => return Err(Error::InvalidAddress("the URL must name exactly one host".into())),
    };
    let port = config.get_ports().first().copied().unwrap_or(DEFAULT_PORT);
    let permit = budget.connect().map_err(|e| Error::Connect(e.to_string()))?;
    let addresses =
        connect::resolve(&settings.network, &host, port).await.map_err(Error::InvalidAddress)?;
    let tcp = source.connect_tcp(&addresses).await.map_err(|e| Error::Connect(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    // TLS only when the URL asks (libpq's default `prefer` would fail
    // on the self-signed certificates most servers have).
    if !url.contains("sslmode=") || config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = config.connect_raw(tcp, NoTls).await.map_err(connect_error)?;
        drive(connection, permit);
        return Ok(client);
    }
    let tls = tokio_postgres::tls::MakeTlsConnect::<tokio::net::TcpStream>::make_tls_connect(
        &mut settings.tls.clone(),
        &host,
    )
    .map_err(|e| Error::InvalidAddress(format!("`{host}` is no TLS server name: {e}")))?;
    let (client, connection) = config.connect_raw(tcp, tls).await.map_err(connect_error)?;
    drive(connection, permit);
    Ok(client)
}

impl PostgresUser {
    /// Refuses parameters over `--max-call-size`.
    fn check_call(&self, sql: &str, params: &[Value]) -> Result<(), Error> {
        let size = sql.len() + params.iter().map(value_size).sum::<usize>();
        self.sockets.budget.check_call(size).map_err(over_budget)
    }

    /// Runs `sql` on `connection` as one event, preparing it first unless
    /// it was.
    async fn statement<T>(
        &mut self,
        connection: Resource<Connection>,
        sql: String,
        params: Vec<Value>,
        options: StatementOptions,
    ) -> wasmtime::Result<Result<T, Error>>
    where
        T: Outcome,
    {
        let started = Instant::now();
        let name = options.name.unwrap_or_else(|| statement_name(&sql));
        let client = Arc::clone(&self.sockets.table.get(&connection)?.client);
        let budget = Arc::clone(&self.sockets.budget);
        let outcome = match self.check_call(&sql, &params) {
            Err(error) => Err(error),
            Ok(()) => {
                let work = async {
                    let prepared = client.prepare(&sql).await.map_err(statement_error)?;
                    T::run(&client, &prepared, &params, &budget).await
                };
                within(self.timeout(options.timeout_us), work, Error::Timeout).await
            }
        };
        self.record(&name, started, outcome.as_ref().map_or(0, T::length), outcome.as_ref().err());
        Ok(outcome)
    }

    /// Runs a prepared statement as one event.
    async fn prepared<T: Outcome>(
        &mut self,
        statement: Resource<Statement>,
        params: Vec<Value>,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<T, Error>> {
        let started = Instant::now();
        let timeout = self.timeout(timeout_us);
        let statement = self.sockets.table.get(&statement)?;
        let outcome = match self.sockets.budget.check_call(params.iter().map(value_size).sum()) {
            Err(exceeded) => Err(over_budget(exceeded)),
            Ok(()) => {
                let work =
                    T::run(&statement.client, &statement.prepared, &params, &self.sockets.budget);
                within(timeout, work, Error::Timeout).await
            }
        };
        let length = outcome.as_ref().map_or(0, T::length);
        self.record(&statement.name, started, length, outcome.as_ref().err());
        Ok(outcome)
    }

    /// Runs a transaction command (`BEGIN`, `COMMIT`, `ROLLBACK`) as one event.
    async fn transaction(
        &mut self,
        connection: Resource<Connection>,
        command: &str,
    ) -> wasmtime::Result<Result<(), Error>> {
        let started = Instant::now();
        let client = Arc::clone(&self.sockets.table.get(&connection)?.client);
        let work = async { client.batch_execute(command).await.map_err(statement_error) };
        let outcome = within(self.timeout(None), work, Error::Timeout).await;
        self.record(command, started, 0, outcome.as_ref().err());
        Ok(outcome)
    }
}

/// Drives a connection's socket on a task of its own until the client is
/// dropped, holding the connection's permit until then.
fn drive<S>(
    connection: tokio_postgres::Connection<tokio::net::TcpStream, S>,
    permit: ConnectionPermit,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let _permit = permit;
        let _ = connection.await;
    });
}

/// The result of a statement run one way or the other.
trait Outcome: Sized {
    /// Runs `prepared` with `params`, holding its rows against `budget`.
    async fn run(
        client: &Client,
        prepared: &Prepared,
        params: &[Value],
        budget: &Arc<UserBudget>,
    ) -> Result<Self, Error>;

    /// The event's length: rows returned or affected.
    fn length(&self) -> u64;
}

impl Outcome for Rows {
    async fn run(
        client: &Client,
        prepared: &Prepared,
        params: &[Value],
        budget: &Arc<UserBudget>,
    ) -> Result<Rows, Error> {
        let columns = prepared.columns().iter().map(|column| column.name().to_owned()).collect();
        let stream = client.query_raw(prepared, params).await.map_err(statement_error)?;
        let mut stream = pin!(stream);
        let mut held = budget.hold(0).map_err(over_budget)?;
        let mut size = 0;
        let mut rows = Vec::new();
        while let Some(row) = stream.next().await {
            let row = row.map_err(statement_error)?;
            let values = (0..row.len())
                .map(|index| row.try_get::<_, Value>(index))
                .collect::<Result<Vec<_>, _>>()
                .map_err(statement_error)?;
            size += values.iter().map(value_size).sum::<usize>();
            held.resize(size).map_err(over_budget)?;
            rows.push(values);
        }
        Ok(Rows { columns, rows })
    }

    fn length(&self) -> u64 {
        self.rows.len() as u64
    }
}

impl Outcome for u64 {
    async fn run(
        client: &Client,
        prepared: &Prepared,
        params: &[Value],
        _: &Arc<UserBudget>,
    ) -> Result<u64, Error> {
        client.execute_raw(prepared, params).await.map_err(statement_error)
    }

    fn length(&self) -> u64 {
        *self
    }
}

impl postgres::Host for PostgresUser {}

impl postgres::HostConnection for PostgresUser {
    async fn connect(
        &mut self,
        url: String,
        options: ConnectOptions,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let started = Instant::now();
        let open = open(&self.config, &self.sockets.budget, self.sockets.source, &url);
        let opened = within(self.timeout(options.timeout_us), open, Error::Timeout).await;
        self.record("connect", started, 0, opened.as_ref().err());
        Ok(match opened {
            Ok(client) => {
                let connection = Connection { client: Arc::new(client) };
                Ok(push_budgeted(&mut self.sockets.table, connection, "PostgreSQL connections")?)
            }
            Err(error) => Err(error),
        })
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        sql: String,
        params: Vec<Value>,
        options: StatementOptions,
    ) -> wasmtime::Result<Result<Rows, Error>> {
        self.statement(connection, sql, params, options).await
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        sql: String,
        params: Vec<Value>,
        options: StatementOptions,
    ) -> wasmtime::Result<Result<u64, Error>> {
        self.statement(connection, sql, params, options).await
    }

    async fn prepare(
        &mut self,
        connection: Resource<Connection>,
        sql: String,
        options: StatementOptions,
    ) -> wasmtime::Result<Result<Resource<Statement>, Error>> {
        let started = Instant::now();
        let name = options.name.unwrap_or_else(|| statement_name(&sql));
        let client = Arc::clone(&self.sockets.table.get(&connection)?.client);
        let outcome = match self.check_call(&sql, &[]) {
            Err(error) => Err(error),
            Ok(()) => {
                let work = async { client.prepare(&sql).await.map_err(statement_error) };
                within(self.timeout(options.timeout_us), work, Error::Timeout).await
            }
        };
        self.record(&format!("PREPARE {name}"), started, 0, outcome.as_ref().err());
        Ok(match outcome {
            Ok(prepared) => {
                let statement = Statement { client, prepared, name };
                Ok(push_budgeted(&mut self.sockets.table, statement, "prepared statements")?)
            }
            Err(error) => Err(error),
        })
    }

    async fn begin(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.transaction(connection, "BEGIN").await
    }

    async fn commit(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.transaction(connection, "COMMIT").await
    }

    async fn rollback(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.transaction(connection, "ROLLBACK").await
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.sockets.table.delete(connection)?;
        Ok(())
    }
}

impl postgres::HostStatement for PostgresUser {
    async fn query(
        &mut self,
        statement: Resource<Statement>,
        params: Vec<Value>,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Rows, Error>> {
        self.prepared(statement, params, timeout_us).await
    }

    async fn execute(
        &mut self,
        statement: Resource<Statement>,
        params: Vec<Value>,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        self.prepared(statement, params, timeout_us).await
    }

    async fn drop(&mut self, statement: Resource<Statement>) -> wasmtime::Result<()> {
        self.sockets.table.delete(statement)?;
        Ok(())
    }
}

/// A parameter goes in binary when its variant is the type the server
/// expects, and as text otherwise, for the server to parse (as psycopg
/// sends most values): `'2024-01-01'` becomes a `date`, `42` a `numeric`.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let text = match (self, binary_param(self, ty)) {
            (Value::Null, _) => return Ok(IsNull::Yes),
            (Value::Boolean(value), true) => return value.to_sql(ty, out),
            (Value::Int(value), true) => {
                return match *ty {
                    Type::INT2 => i16::try_from(*value)?.to_sql(ty, out),
                    Type::INT4 => i32::try_from(*value)?.to_sql(ty, out),
                    Type::OID => u32::try_from(*value)?.to_sql(ty, out),
                    _ => value.to_sql(ty, out),
                }
            }
            (Value::Float(value), true) if *ty == Type::FLOAT4 => {
                return (*value as f32).to_sql(ty, out)
            }
            (Value::Float(value), true) => return value.to_sql(ty, out),
            (Value::Bytes(value), true) => return value.as_slice().to_sql(ty, out),
            (Value::Bytes(_), false) => {
                return Err(format!("bytes given for a parameter of type {ty}").into())
            }
            (Value::Boolean(value), false) => value.to_string(),
            (Value::Int(value), false) => value.to_string(),
            (Value::Float(value), false) => value.to_string(),
            (Value::Text(value), _) => {
                out.extend_from_slice(value.as_bytes());
                return Ok(IsNull::No);
            }
        };
        out.extend_from_slice(text.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> tokio_postgres::types::Format {
        if binary_param(self, ty) {
            tokio_postgres::types::Format::Binary
        } else {
            tokio_postgres::types::Format::Text
        }
    }

    to_sql_checked!();
}

/// Whether `value` is sent in the binary format of `ty`.
fn binary_param(value: &Value, ty: &Type) -> bool {
    match value {
        Value::Null | Value::Text(_) => false,
        Value::Boolean(_) => *ty == Type::BOOL,
        Value::Int(_) => matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8 | Type::OID),
        Value::Float(_) => matches!(*ty, Type::FLOAT4 | Type::FLOAT8),
        Value::Bytes(_) => *ty == Type::BYTEA,
    }
}

/// A column's value from its binary form; a type with no variant of its
/// own is refused with a hint to cast it to text in the statement.
impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Value, Box<dyn StdError + Sync + Send>> {
        Ok(match *ty {
            Type::BOOL => Value::Boolean(bool::from_sql(ty, raw)?),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => Value::Float(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Float(f64::from_sql(ty, raw)?),
            Type::BYTEA => Value::Bytes(raw.to_vec()),
            Type::UUID => Value::Text(uuid_text(raw)?),
            Type::NUMERIC => Value::Text(numeric_text(raw)?),
            // jsonb's binary form is a version byte, then the text.
            Type::JSONB => Value::Text(std::str::from_utf8(raw.get(1..).unwrap_or(&[]))?.into()),
            Type::TEXT
            | Type::VARCHAR
            | Type::BPCHAR
            | Type::NAME
            | Type::UNKNOWN
            | Type::JSON
            | Type::XML => Value::Text(std::str::from_utf8(raw)?.into()),
            // An enum's binary form is its label.
            _ if matches!(ty.kind(), Kind::Enum(_)) => {
                Value::Text(std::str::from_utf8(raw)?.into())
            }
            _ => {
                return Err(format!(
                    "columns of type {ty} are not converted: cast to text (::text)"
                )
                .into())
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Value, Box<dyn StdError + Sync + Send>> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A uuid's 16 bytes in their usual hex form.
fn uuid_text(raw: &[u8]) -> Result<String, Box<dyn StdError + Sync + Send>> {
    if raw.len() != 16 {
        return Err("a uuid is not 16 bytes".into());
    }
    let mut text = String::with_capacity(36);
    for (index, byte) in raw.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        let _ = write!(text, "{byte:02x}");
    }
    Ok(text)
}

/// A numeric's binary form (base-10000 digits, the first one's weight, a
/// sign, the digits shown after the point) in decimal.
fn numeric_text(raw: &[u8]) -> Result<String, Box<dyn StdError + Sync + Send>> {
    let word = |index: usize| {
        raw.get(index * 2..index * 2 + 2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .ok_or("a numeric is cut short")
    };
    let count = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    let scale = usize::from(word(3)?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits = (0..count).map(|index| word(4 + index)).collect::<Result<Vec<_>, _>>()?;
    // Digit `k` stands for `digits[k] * 10000^(weight - k)`.
    let digit = |k: i64| usize::try_from(k).ok().and_then(|k| digits.get(k)).copied().unwrap_or(0);
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    }
    for k in 0..=weight {
        let _ = if k == 0 { write!(text, "{}", digit(k)) } else { write!(text, "{:04}", digit(k)) };
    }
    if scale > 0 {
        let mut fraction = String::new();
        let mut k = weight + 1;
        while fraction.len() < scale {
            let _ = write!(fraction, "{:04}", digit(k));
            k += 1;
        }
        fraction.truncate(scale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

/// Bytes a value is counted as, for the budgets.
fn value_size(value: &Value) -> usize {
    VALUE_OVERHEAD
        + match value {
            Value::Text(text) => text.len(),
            Value::Bytes(bytes) => bytes.len(),
            _ => 0,
        }
}

/// The event name of a statement given by its text: literals elided as
/// `?`, whitespace folded, cut to [`MAX_NAME_CHARS`].
fn statement_name(sql: &str) -> String {
    let mut name = String::new();
    let mut chars = sql.trim().chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A quote doubled inside a literal is part of it.
            while let Some(inner) = chars.next() {
                if inner == '\'' && chars.next_if_eq(&'\'').is_none() {
                    break;
                }
            }
            name.push('?');
        } else if c.is_ascii_digit()
            && !(previous.is_alphanumeric() || matches!(previous, '_' | '$'))
        {
            while chars.next_if(|next| next.is_ascii_digit() || *next == '.').is_some() {}
            name.push('?');
        } else if c.is_whitespace() {
            if !name.ends_with(' ') {
                name.push(' ');
            }
        } else {
            name.push(c);
        }
        previous = name.chars().next_back().unwrap_or(' ');
    }
    if name.chars().count() > MAX_NAME_CHARS {
        name = name.chars().take(MAX_NAME_CHARS - 1).collect();
        name.push('…');
    }
    name
}

/// A failed connection attempt as the interface's error.
fn connect_error(error: tokio_postgres::Error) -> Error {
    match error.as_db_error() {
        Some(db) => Error::Connect(format!("{} {}", db.code().code(), db.message())),
        None => Error::Connect(error_chain(&error)),
    }
}

/// A failed statement as the interface's error: the server's own, a value
/// that would not convert, or a lost connection.
fn statement_error(error: tokio_postgres::Error) -> Error {
    if let Some(db) = error.as_db_error() {
        return Error::Server(ServerError {
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
        });
    }
    let text = error_chain(&error);
    // tokio-postgres tells these kinds apart only in its messages.
    if ["error serializing", "error deserializing", "expected "]
        .iter()
        .any(|start| text.starts_with(start))
    {
        Error::Conversion(text)
    } else {
        Error::Closed(text)
    }
}

/// A budget breach, as the interface's error.
fn over_budget(exceeded: Exceeded) -> Error {
    Error::TooLarge(exceeded.to_string())
}

/// The error's text in the stats: stable per kind of failure, a server's
/// error grouped by SQLSTATE and message.
fn describe(error: &Error) -> String {
    match error {
        Error::InvalidAddress(reason) => format!("invalid address: {reason}"),
        Error::Connect(reason) => format!("connect: {reason}"),
        Error::Timeout => "timeout".into(),
        Error::Server(ServerError { code, message }) => format!("{code} {message}"),
        Error::Conversion(reason) => format!("conversion: {reason}"),
        Error::TooLarge(reason) => format!("too large: {reason}"),
        Error::Closed(reason) => format!("closed: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_named_by_their_text_without_literals() {
        assert_eq!(
            statement_name("SELECT *\n  FROM items WHERE id = 42 AND name = 'it''s'"),
            "SELECT * FROM items WHERE id = ? AND name = ?"
        );
        assert_eq!(
            statement_name("UPDATE t2 SET x = x + 1.5 WHERE id = $1"),
            "UPDATE t2 SET x = x + ? WHERE id = $1"
        );
        let long = statement_name(&format!("SELECT {}", "a, ".repeat(40)));
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with('…'));
    }

    fn numeric(weight: i16, sign: u16, scale: u16, digits: &[u16]) -> String {
        let mut raw = Vec::new();
        for word in [digits.len() as u16, weight as u16, sign, scale].iter().chain(digits) {
            raw.extend_from_slice(&word.to_be_bytes());
        }
        numeric_text(&raw).unwrap()
    }

    #[test]
    fn numerics_read_as_decimal_text() {
        assert_eq!(numeric(0, 0, 2, &[123, 4500]), "123.45");
        assert_eq!(numeric(1, 0x4000, 0, &[1, 2]), "-10002");
        assert_eq!(numeric(-2, 0, 6, &[1200]), "0.000012");
        assert_eq!(numeric(0, 0, 0, &[]), "0");
        assert_eq!(numeric(0, 0xC000, 0, &[]), "NaN");
    }

    #[test]
    fn uuids_read_as_hex() {
        let raw: Vec<u8> = (0..16).collect();
        assert_eq!(uuid_text(&raw).unwrap(), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    }
}
