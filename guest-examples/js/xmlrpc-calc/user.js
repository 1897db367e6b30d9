// A client of an XML-RPC calculator (`add(a, b)`, `echo(value)`), e.g.
// Python's `SimpleXMLRPCServer` with those two functions, at `--host`.

import { DateTime, context, users, xmlrpc } from "wasmload";

// Deep equality for the values XML-RPC carries.
function same(a, b) {
  if (a instanceof DateTime || b instanceof DateTime) return a instanceof DateTime && b instanceof DateTime && a.text === b.text;
  if (a instanceof Uint8Array || b instanceof Uint8Array) return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => same(a[key], b[key]));
}

export const behaviour = users({
  name: "calculator",
  tasks: {
    add: {
      weight: 3,
      run() {
        const [a, b] = [context.randomRange(0, 1000), context.randomRange(0, 1000)];
        const sum = xmlrpc.call("/RPC2", "add", a, b);
        if (sum !== a + b) throw new Error(`wrong sum ${sum} for ${a} + ${b}`);
      },
    },
    // Sends one value of every type and checks it comes back unchanged.
    echo() {
      const value = {
        user: context.userId(),
        name: "<caf\u00e9 & tea>",
        ratio: 0.25,
        active: true,
        when: new DateTime("20261125T12:30:00"),
        blob: new Uint8Array([0, 1, 2, 255]),
        nothing: null,
        tags: ["a", "b"],
        empty: [],
      };
      const echoed = xmlrpc.call("/RPC2", "echo", value);
      if (!same(echoed, value)) throw new Error(`echo changed the value: ${JSON.stringify(echoed)}`);
    },
  },
});
