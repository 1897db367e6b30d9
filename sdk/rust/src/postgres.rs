//! PostgreSQL. The host records connecting as an event (type `postgres`,
//! name `connect`), and every statement as one event: named by
//! [`Connection::query_named`]'s name, a [`Statement`]'s name, or the
//! statement's text with its literals elided; its length is the rows
//! returned or affected. A server's error is a failure grouped by SQLSTATE
//! and message.
//!
//! ```ignore
//! let mut db = postgres::connect("")?; // --host postgres://shop@127.0.0.1:5432/shop
//! let rows = db.query("SELECT name, price FROM items WHERE id = $1", &[7.into()])?;
//! let name = rows.rows[0][0].as_str();
//! db.begin()?;
//! db.execute("UPDATE items SET stock = stock - 1 WHERE id = $1", &[7.into()])?;
//! db.commit()?;
//! ```

use std::time::Duration;

use crate::micros;

use crate::bindings::wasmload::user::postgres::{
    ConnectOptions, Connection as HostConnection, Statement as HostStatement, StatementOptions,
};
pub use crate::bindings::wasmload::user::postgres::{
    Error as PostgresError, Rows, ServerError, Value,
};

impl PostgresError {
    /// What went wrong, in words.
    pub fn describe(&self) -> String {
        match self {
            PostgresError::InvalidAddress(reason) => format!("invalid address: {reason}"),
            PostgresError::Connect(reason) => format!("connect: {reason}"),
            PostgresError::Timeout => "timeout".into(),
            PostgresError::Server(ServerError { code, message }) => format!("{code} {message}"),
            PostgresError::Conversion(reason) => format!("conversion: {reason}"),
            PostgresError::TooLarge(reason) => format!("too large: {reason}"),
            PostgresError::Closed(reason) => format!("closed: {reason}"),
        }
    }

    /// The SQLSTATE of a server's error (`"23505"`), if it is one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            PostgresError::Server(error) => Some(&error.code),
            _ => None,
        }
    }
}

/// Connects to `url` (`postgres://user:password@host:port/database`, with
/// `?sslmode=require` for TLS); an empty `url` is the run's `--host`.
pub fn connect(url: &str) -> Result<Connection, PostgresError> {
    connect_with(url, None)
}

/// Connects with a timeout for the connection and its handshake.
pub fn connect_with(url: &str, timeout: Option<Duration>) -> Result<Connection, PostgresError> {
    let options = ConnectOptions { timeout_us: timeout.map(micros) };
    let inner = HostConnection::connect(url, options)?;
    Ok(Connection { inner, timeout_us: None })
}

/// An open connection; closed when dropped.
pub struct Connection {
    inner: HostConnection,
    timeout_us: Option<u64>,
}

impl Connection {
    /// Sets the timeout of every later statement (default: the run's `--timeout`).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout_us = Some(micros(timeout));
    }

    fn options(&self, name: Option<&str>) -> StatementOptions {
        StatementOptions { name: name.map(str::to_owned), timeout_us: self.timeout_us }
    }

    /// Runs `sql` with `params` (`$1`, `$2`, ...); returns its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, PostgresError> {
        self.inner.query(sql, params, &self.options(None))
    }

    /// [`Connection::query`], its event named `name`.
    pub fn query_named(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Value],
    ) -> Result<Rows, PostgresError> {
        self.inner.query(sql, params, &self.options(Some(name)))
    }

    /// Runs `sql` with `params`; returns the rows it affected.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, PostgresError> {
        self.inner.execute(sql, params, &self.options(None))
    }

    /// [`Connection::execute`], its event named `name`.
    pub fn execute_named(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Value],
    ) -> Result<u64, PostgresError> {
        self.inner.execute(sql, params, &self.options(Some(name)))
    }

    /// Prepares `sql` once; its runs' events are named `name` (the prepare
    /// itself `PREPARE name`).
    pub fn prepare(&mut self, name: &str, sql: &str) -> Result<Statement, PostgresError> {
        let inner = self.inner.prepare(sql, &self.options(Some(name)))?;
        Ok(Statement { inner, timeout_us: self.timeout_us })
    }

    /// Starts a transaction (an event named `BEGIN`).
    pub fn begin(&mut self) -> Result<(), PostgresError> {
        self.inner.begin()
    }

    /// Commits the transaction (`COMMIT`).
    pub fn commit(&mut self) -> Result<(), PostgresError> {
        self.inner.commit()
    }

    /// Rolls the transaction back (`ROLLBACK`).
    pub fn rollback(&mut self) -> Result<(), PostgresError> {
        self.inner.rollback()
    }
}

/// A statement prepared on a connection, run many times.
pub struct Statement {
    inner: HostStatement,
    timeout_us: Option<u64>,
}

impl Statement {
    /// Runs the statement with `params`; returns its rows.
    pub fn query(&mut self, params: &[Value]) -> Result<Rows, PostgresError> {
        self.inner.query(params, self.timeout_us)
    }

    /// Runs the statement with `params`; returns the rows it affected.
    pub fn execute(&mut self, params: &[Value]) -> Result<u64, PostgresError> {
        self.inner.execute(params, self.timeout_us)
    }
}

impl Value {
    /// The integer, if the value is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(value) => Some(*value),
            _ => None,
        }
    }

    /// The number, integer or not, if the value is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(value) => Some(*value as f64),
            Value::Float(value) => Some(*value),
            _ => None,
        }
    }

    /// The text (also a numeric's digits, a uuid, json), if the value is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(value) => Some(value),
            _ => None,
        }
    }

    /// The boolean, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(value) => Some(*value),
            _ => None,
        }
    }

    /// Whether the value is SQL's `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// `From` for each kind of parameter, so `&[7.into(), "pen".into()]` reads
/// as the values themselves.
macro_rules! values_from {
    ($($source:ty => $variant:ident($convert:expr)),+ $(,)?) => {
        $(impl From<$source> for Value {
            fn from(value: $source) -> Self {
                Value::$variant($convert(value))
            }
        })+
    };
}

values_from! {
    bool => Boolean(std::convert::identity),
    i32 => Int(i64::from),
    i64 => Int(std::convert::identity),
    u32 => Int(i64::from),
    f64 => Float(std::convert::identity),
    &str => Text(str::to_owned),
    String => Text(std::convert::identity),
    Vec<u8> => Bytes(std::convert::identity),
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}
