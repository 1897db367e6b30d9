// A chatter on a WebSocket echo service: each exchange (a text line, a
// binary frame, a ping) is one event of type `ws`, timed by the host. The
// connection offers the `chat.v1` subprotocol and says which user it is in
// a header.
//
// Run with `--host ws://127.0.0.1:8765/chat`; `-e WAIT_MS=...` is the pause
// after each task (default 100).

import { constant, context, fromUtf8, users, websocket } from "wasmload";

export const behaviour = users({
  name: "chatter",
  wait: () => constant(Number(context.param("WAIT_MS", "100")) / 1000),

  onStart() {
    this.socket = websocket.connect("", {
      headers: { "x-user": String(context.userId()) },
      subprotocols: ["chat.v1"],
    });
    if (this.socket.subprotocol() !== "chat.v1") throw new Error("no chat.v1 subprotocol");
  },

  onStop() {
    this.socket.close(1000, "done");
  },

  tasks: {
    say: {
      weight: 3,
      run() {
        const line = `hello from user ${context.userId()}`;
        if (this.socket.request("say", line) !== line) throw new Error("the echo differs");
      },
    },
    upload() {
      const frame = Uint8Array.from({ length: 256 }, (_, i) => i);
      const echo = this.socket.request("upload", frame);
      if (!(echo instanceof Uint8Array) || echo.length !== 256 || echo.some((byte, i) => byte !== i)) {
        throw new Error(`the binary echo differs: ${typeof echo === "string" ? echo : fromUtf8(echo)}`);
      }
    },
    ping() {
      this.socket.ping();
    },
  },
});
