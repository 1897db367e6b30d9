// Talks to echo servers over TCP and UDP with the request helpers, which
// the host times as one event per exchange.
//
// Parameters: `-e TCP=host:port -e UDP=host:port`.

import { context, fromUtf8, tcp, udp, users } from "wasmload";

export const behaviour = users({
  name: "echoer",

  onStart() {
    const tcpAddress = context.param("TCP");
    const udpAddress = context.param("UDP");
    if (!tcpAddress || !udpAddress) throw new Error("set -e TCP=host:port -e UDP=host:port");
    this.tcp = tcp.connect(tcpAddress);
    this.udp = udp.connect(udpAddress);
  },

  onStop() {
    this.tcp.close();
    this.udp.close();
  },

  tasks: {
    "tcp line"() {
      const line = `hello from user ${context.userId()}\n`;
      const echoed = fromUtf8(this.tcp.request("echo line", line, "\n"));
      if (echoed !== line) throw new Error(`TCP echo differs: ${JSON.stringify(echoed)}`);
    },

    "udp datagram"() {
      const echoed = fromUtf8(this.udp.request("echo datagram", "ping"));
      if (echoed !== "ping") throw new Error(`UDP echo differs: ${JSON.stringify(echoed)}`);
    },
  },
});
