//! XML-RPC over the user's HTTP session. Each call is recorded by the host
//! as one event (type `xmlrpc`, named after the method); a fault is a
//! failure, and comes back as [`XmlRpcError::Fault`].
//!
//! ```ignore
//! let sum = xmlrpc::call("/RPC2", "add", &[2.into(), 3.into()])?;
//! assert_eq!(sum, Value::Int(5));
//! ```

use crate::bindings::wasmload::user::xmlrpc::{self as host, Node};

/// An XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i32),
    Boolean(bool),
    String(String),
    Double(f64),
    /// `dateTime.iso8601` text, e.g. `20261125T12:00:00`.
    DateTime(String),
    Base64(Vec<u8>),
    Nil,
    Array(Vec<Value>),
    /// Members in order.
    Struct(Vec<(String, Value)>),
}

/// Why a call returned no value (the host has recorded a failure).
#[derive(Debug, Clone, PartialEq)]
pub enum XmlRpcError {
    /// The server's `<fault>`.
    Fault { code: i32, message: String },
    /// The call could not be built.
    InvalidRequest(String),
    /// No HTTP response, or a status other than 200.
    Transport(String),
    /// The answer is not valid XML-RPC.
    Malformed(String),
}

impl XmlRpcError {
    /// What went wrong, in words.
    pub fn describe(&self) -> String {
        match self {
            XmlRpcError::Fault { code, message } => format!("fault {code}: {message}"),
            XmlRpcError::InvalidRequest(reason) => format!("invalid request: {reason}"),
            XmlRpcError::Transport(reason) => format!("transport: {reason}"),
            XmlRpcError::Malformed(reason) => format!("malformed response: {reason}"),
        }
    }
}

/// Calls `method` at `url` (absolute, or a path under `--host`).
pub fn call(url: &str, method: &str, params: &[Value]) -> Result<Value, XmlRpcError> {
    let mut nodes = Vec::new();
    for param in params {
        flatten(param, &mut nodes);
    }
    let result = host::call(url, method, &nodes).map_err(|error| match error {
        host::Error::Fault(fault) => {
            XmlRpcError::Fault { code: fault.code, message: fault.message }
        }
        host::Error::InvalidRequest(reason) => XmlRpcError::InvalidRequest(reason),
        host::Error::Transport(reason) => XmlRpcError::Transport(reason),
        host::Error::Malformed(reason) => XmlRpcError::Malformed(reason),
    })?;
    let mut nodes = result.into_iter();
    rebuild(&mut nodes)
        .ok_or_else(|| XmlRpcError::Malformed("the host sent an incomplete value".into()))
}

fn flatten(value: &Value, nodes: &mut Vec<Node>) {
    match value {
        Value::Int(value) => nodes.push(Node::Int(*value)),
        Value::Boolean(value) => nodes.push(Node::Boolean(*value)),
        Value::String(value) => nodes.push(Node::String(value.clone())),
        Value::Double(value) => nodes.push(Node::Double(*value)),
        Value::DateTime(value) => nodes.push(Node::Datetime(value.clone())),
        Value::Base64(value) => nodes.push(Node::Base64(value.clone())),
        Value::Nil => nodes.push(Node::Nil),
        Value::Array(elements) => {
            nodes.push(Node::Array(elements.len() as u32));
            elements.iter().for_each(|element| flatten(element, nodes));
        }
        Value::Struct(members) => {
            nodes.push(Node::Struct(members.iter().map(|(name, _)| name.clone()).collect()));
            members.iter().for_each(|(_, value)| flatten(value, nodes));
        }
    }
}

fn rebuild(nodes: &mut std::vec::IntoIter<Node>) -> Option<Value> {
    Some(match nodes.next()? {
        Node::Int(value) => Value::Int(value),
        Node::Boolean(value) => Value::Boolean(value),
        Node::String(value) => Value::String(value),
        Node::Double(value) => Value::Double(value),
        Node::Datetime(value) => Value::DateTime(value),
        Node::Base64(value) => Value::Base64(value),
        Node::Nil => Value::Nil,
        Node::Array(count) => {
            Value::Array((0..count).map(|_| rebuild(nodes)).collect::<Option<_>>()?)
        }
        Node::Struct(names) => Value::Struct(
            names.into_iter().map(|name| Some((name, rebuild(nodes)?))).collect::<Option<_>>()?,
        ),
    })
}

impl Value {
    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i32> {
        match self {
            Value::Int(value) => Some(*value),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(value) => Some(value),
            _ => None,
        }
    }

    /// The member `name`, if this is a struct that has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(members) => {
                members.iter().find(|(key, _)| key == name).map(|(_, value)| value)
            }
            _ => None,
        }
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Self {
        Value::Int(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Boolean(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Double(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::String(value)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(values: Vec<T>) -> Self {
        Value::Array(values.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Nil, Into::into)
    }
}
