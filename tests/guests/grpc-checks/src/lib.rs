//! One gRPC behaviour per step, each run in turn: a streamed reply, a
//! refused argument, an unknown method, and an endpoint nobody serves
//! (`-e DEAD=http://127.0.0.1:PORT`).

use prost::Message;
use wasmload_sdk::grpc::{code, GrpcError};
use wasmload_sdk::prelude::*;

#[derive(Clone, PartialEq, Message)]
struct HelloRequest {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, Message)]
struct HelloReply {
    #[prost(string, tag = "1")]
    message: String,
}

fn hello(name: &str) -> Vec<u8> {
    HelloRequest { name: name.into() }.encode_to_vec()
}

fn streamed() -> Result<()> {
    let reply = grpc::call("/helloworld.Greeter/SayHelloStream")
        .metadata("x-user", "checker")
        .server_streaming(&hello("s"))?;
    let greetings: Vec<String> = reply
        .messages
        .iter()
        .map(|message| HelloReply::decode(message.as_slice()).map(|reply| reply.message))
        .collect::<std::result::Result<_, _>>()
        .map_err(Error::msg)?;
    ensure(greetings == ["Hello s #1", "Hello s #2", "Hello s #3"], "wrong stream")
}

fn refused() -> Result<()> {
    let outcome = grpc::call("/helloworld.Greeter/SayHello").unary(&hello(""));
    ensure(
        outcome.err().and_then(|e| e.code()) == Some(code::INVALID_ARGUMENT),
        "empty name accepted",
    )
}

fn unknown_method() -> Result<()> {
    let outcome = grpc::call("/helloworld.Greeter/SayGoodbye").unary(&hello("x"));
    ensure(
        outcome.err().and_then(|e| e.code()) == Some(code::UNIMPLEMENTED),
        "unknown method answered",
    )
}

fn dead_endpoint() -> Result<()> {
    let dead = context::param("DEAD").ok_or("set -e DEAD=http://127.0.0.1:PORT")?;
    match grpc::call("/helloworld.Greeter/SayHello").endpoint(&dead).unary(&hello("x")) {
        Err(GrpcError::Status { code: code::UNAVAILABLE, .. }) => Ok(()),
        other => Err(Error::msg(format!("expected UNAVAILABLE, got {other:?}"))),
    }
}

steps::step_user!("grpc checker", [streamed, refused, unknown_method, dead_endpoint]);
