//! Greets the canonical `helloworld.Greeter` service at `--host` and checks
//! the reply. Messages are encoded with prost in the guest; the host only
//! carries bytes.

use prost::Message;
use wasmload_sdk::prelude::*;

/// `message HelloRequest { string name = 1; }`
#[derive(Clone, PartialEq, Message)]
struct HelloRequest {
    #[prost(string, tag = "1")]
    name: String,
}

/// `message HelloReply { string message = 1; }`
#[derive(Clone, PartialEq, Message)]
struct HelloReply {
    #[prost(string, tag = "1")]
    message: String,
}

struct Greeter {
    name: String,
}

impl User for Greeter {
    fn class() -> Class<Self> {
        Class::new("greeter").task(Task::new("say hello", Self::say_hello))
    }

    fn on_start() -> Result<Self> {
        Ok(Greeter { name: format!("user {}", context::user_id()) })
    }
}

impl Greeter {
    fn say_hello(&mut self) -> Result<()> {
        let request = HelloRequest { name: self.name.clone() };
        let reply = grpc::call("/helloworld.Greeter/SayHello").unary(&request.encode_to_vec())?;
        let reply = HelloReply::decode(reply.message()).map_err(Error::msg)?;
        if reply.message != format!("Hello {}", self.name) {
            return Err(Error::msg(format!("unexpected greeting {:?}", reply.message)));
        }
        Ok(())
    }
}

wasmload_sdk::users!(Greeter);
