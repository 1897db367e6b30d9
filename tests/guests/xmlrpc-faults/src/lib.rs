//! Faults and broken answers come back as typed errors, each step in turn.
//! Parameter: `-e GARBAGE=url` of a server answering malformed XML-RPC.

use wasmload_sdk::prelude::*;
use wasmload_sdk::xmlrpc::{Value, XmlRpcError};

fn unknown_method() -> Result<()> {
    match xmlrpc::call("/RPC2", "nope", &[]) {
        Err(XmlRpcError::Fault { code: 1, message }) if message.contains("not supported") => Ok(()),
        other => Err(Error::msg(format!("expected a fault, got {other:?}"))),
    }
}

fn wrong_arguments() -> Result<()> {
    match xmlrpc::call("/RPC2", "add", &[Value::Int(1), "two".into()]) {
        Err(XmlRpcError::Fault { message, .. }) if message.contains("TypeError") => Ok(()),
        other => Err(Error::msg(format!("expected a TypeError fault, got {other:?}"))),
    }
}

fn malformed_answer() -> Result<()> {
    let url = context::param("GARBAGE").ok_or("set -e GARBAGE=url")?;
    match xmlrpc::call(&url, "add", &[Value::Int(1), Value::Int(2)]) {
        Err(XmlRpcError::Malformed(_)) => Ok(()),
        other => Err(Error::msg(format!("expected a malformed answer, got {other:?}"))),
    }
}

steps::step_user!("fault finder", [unknown_method, wrong_arguments, malformed_answer]);
