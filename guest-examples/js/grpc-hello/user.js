// Greets the canonical `helloworld.Greeter` service at `--host` and checks
// the reply. The one-field protobuf messages are encoded by hand; the host
// only carries bytes.

import { context, fromUtf8, grpc, users, utf8 } from "wasmload";

// `message HelloRequest { string name = 1; }`, for names under 128 bytes.
function helloRequest(name) {
  const bytes = utf8(name);
  return new Uint8Array([0x0a, bytes.length, ...bytes]);
}

// `message HelloReply { string message = 1; }`.
function helloReply(message) {
  if (message.length < 2 || message[0] !== 0x0a || message[1] !== message.length - 2) {
    throw new Error("undecodable reply");
  }
  return fromUtf8(message.subarray(2));
}

export const behaviour = users({
  name: "greeter",
  onStart() {
    this.name = `user ${context.userId()}`;
  },
  tasks: {
    "say hello"() {
      const reply = grpc.unary("/helloworld.Greeter/SayHello", helloRequest(this.name));
      const greeting = helloReply(reply.messages[0]);
      if (greeting !== `Hello ${this.name}`) throw new Error(`unexpected greeting ${greeting}`);
    },
  },
});
