// wasmload's JavaScript SDK: one virtual user as a plain object.
//
//     import { users, between, http, context } from "wasmload";
//
//     export const behaviour = users({
//       name: "shopper",
//       wait: () => between(0.5, 1.5),
//       onStart() { this.token = http.post("/login", { json: {...} }).json().token; },
//       tasks: {
//         browse: { weight: 3, tags: ["browse"], run() { http.get("/items"); } },
//         cart() { http.get("/cart"); },
//       },
//     });
//
// `this` in onStart, onStop and tasks is the user's own state object. A
// task fails by throwing; the run shows the message under "Task errors".
// Times are in seconds. Built with componentize-qjs (see README).

import wit_context from "wasmload:user/context@0.1.0";
import wit_events from "wasmload:user/events@0.1.0";
import wit_grpc from "wasmload:user/grpc@0.1.0";
import wit_http from "wasmload:user/http@0.1.0";
import wit_mqtt from "wasmload:user/mqtt@0.1.0";
import wit_postgres from "wasmload:user/postgres@0.1.0";
import wit_tcp from "wasmload:user/tcp@0.1.0";
import wit_udp from "wasmload:user/udp@0.1.0";
import wit_websocket from "wasmload:user/websocket@0.1.0";
import wit_xmlrpc from "wasmload:user/xmlrpc@0.1.0";

import { fromUtf8, settle, utf8 } from "./web.js";

/** A protocol call got no answer; the host already recorded a failed event. */
export class WasmloadError extends Error {}

/** A check on an answer failed; the request is already marked failed. */
export class CheckFailed extends WasmloadError {}

const micros = (seconds) => (seconds == null ? null : Math.round(seconds * 1e6));

// Readable text for a WIT error variant: "connect: refused".
function describe(variant) {
  const kind = variant.tag.replace(/([A-Z])/g, " $1").toLowerCase();
  return variant.val === undefined ? kind : `${kind}: ${typeof variant.val === "object" ? JSON.stringify(variant.val) : variant.val}`;
}

// Calls a WIT import, turning its error variant into a WasmloadError.
function unwrap(what, call) {
  try {
    return call();
  } catch (error) {
    if (error && error.payload && error.payload.tag) {
      throw new WasmloadError(`${what}: ${describe(error.payload)}`);
    }
    throw error;
  }
}

export { fromUtf8, utf8 };

const toBytes = (data) => (data instanceof Uint8Array ? data : utf8(data ?? ""));

// ---- users, tasks and waits --------------------------------------------

/** Start the next task at once (the default). */
export const noWait = () => ({ tag: "none" });
/** Wait this many seconds after every task. */
export const constant = (seconds) => ({ tag: "constant", val: micros(seconds) });
/** Wait a random time between `low` and `high` seconds. */
export const between = (low, high) => ({ tag: "between", val: [micros(low), micros(high)] });
/** Start a task at most once per `seconds` (Locust's constant_pacing). */
export const constantPacing = (seconds) => ({ tag: "constant-pacing", val: micros(seconds) });
/** Run at most this many tasks a second (Locust's constant_throughput). */
export const constantThroughput = (perSecond) => ({ tag: "constant-throughput", val: perSecond });

/** Load shape answers; see `users(..., { shape })`. */
export const load = {
  users: (count, spawnRate) => ({ tag: "users", val: { users: count, spawnRate } }),
  rate: (perSecond) => ({ tag: "rate", val: perSecond }),
  stop: () => ({ tag: "stop" }),
};

function taskList(tasks) {
  return Object.entries(tasks).map(([name, task]) => {
    const spec = typeof task === "function" ? { run: task } : task;
    return { name, weight: spec.weight ?? 1, tags: spec.tags ?? [], run: spec.run };
  });
}

// Turns an exception into the text the run shows.
function reason(error) {
  if (error instanceof WasmloadError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

// Runs a task, on-start or on-stop to its end: an async one (or one that
// returns a promise) until its promise settles.
function guarded(run) {
  try {
    settle(run());
  } catch (error) {
    throw reason(error);
  }
}

/**
 * The `behaviour` export from one or more user classes:
 * `{ name, weight, fixedCount, wait, onStart, onStop, tasks }`. The last
 * argument may be `{ shape(runTime) }` returning a `load` answer or null.
 */
export function users(...classes) {
  const shape = classes.length && classes[classes.length - 1].shape ? classes.pop().shape : null;
  const tasks = classes.map((userClass) => taskList(userClass.tasks ?? {}));
  let current = null;
  let state = null;
  return {
    describe() {
      return classes.map((userClass, i) => ({
        name: userClass.name ?? `user${i}`,
        weight: userClass.weight ?? 1,
        fixedCount: userClass.fixedCount ?? null,
        tasks: tasks[i].map(({ name, weight, tags }) => ({ name, weight, tags })),
        wait: typeof userClass.wait === "function" ? userClass.wait() : userClass.wait ?? noWait(),
      }));
    },
    onStart(index) {
      current = index;
      state = {};
      guarded(() => classes[index].onStart?.call(state));
    },
    runTask(index) {
      guarded(() => tasks[current][index].run.call(state));
    },
    onStop() {
      guarded(() => classes[current]?.onStop?.call(state));
    },
    shape(runTimeUs) {
      return (shape && shape(runTimeUs / 1e6)) || { tag: "unshaped" };
    },
  };
}

// ---- context ------------------------------------------------------------

// The host's u64 arrives as a number rounded to 53 bits, so its low bits
// are zeros: scale it to [0, 1) rather than take it modulo anything.
const random = () => Math.min(wit_context.random() / 2 ** 64, 1 - 2 ** -53);
// The build snapshots QuickJS with its generator already seeded, so every
// user would draw the same sequence: draw from the user's own instead.
Math.random = random;

export const context = {
  /** This user's number, 0-based, unique within the run. */
  userId: () => wit_context.userId(),
  /** Suspends this user for `seconds`. */
  sleep: (seconds) => wit_context.sleep(micros(seconds)),
  /** Seconds since the run started. */
  now: () => wit_context.nowUs() / 1e6,
  /** A random number in [0, 1) from this user's generator (seeded by --seed). */
  random,
  /** A random integer in [low, high). */
  randomRange: (low, high) => low + Math.floor(random() * (high - low)),
  /** The `-e KEY=VALUE` parameter, or `fallback`. */
  param: (key, fallback = null) => wit_context.param(key) ?? fallback,
  /** The run's --host. */
  host: () => wit_context.host(),
  /** Writes a line to the run's log: level "debug", "info", "warn" or "error". */
  log: (message, level = "info") => wit_context.log(level, String(message)),
};

// ---- HTTP ---------------------------------------------------------------

/** A received response; unjudged, a status of 400 or more is a failure. */
export class Response {
  constructor(handle) {
    this.handle = handle;
    this.status = handle.status();
    this.body = handle.body();
  }
  /** The body as text (UTF-8). */
  text() {
    return fromUtf8(this.body);
  }
  /** The body parsed as JSON. */
  json() {
    return JSON.parse(this.text());
  }
  /** The first header with this name, or null. */
  header(name) {
    return this.handle.header(name);
  }
  get headers() {
    return this.handle.headers();
  }
  /** The final URL, after redirects. */
  get url() {
    return this.handle.url();
  }
  /** Seconds from sending to the end of the body. */
  get elapsed() {
    return this.handle.elapsedUs() / 1e6;
  }
  /** Records the request as a success, whatever the status. */
  success() {
    this.handle.success();
  }
  /** Records the request as a failure with this reason. */
  failure(why) {
    this.handle.failure(String(why));
  }
  /** Fails the request, and throws CheckFailed, unless the status is `status`. */
  expectStatus(status) {
    if (this.status !== status) {
      const why = `expected status ${status}, got ${this.status}`;
      this.failure(why);
      throw new CheckFailed(why);
    }
    return this;
  }
}

const headerPairs = (headers) => (Array.isArray(headers) ? headers : Object.entries(headers ?? {}));
const hasHeader = (pairs, name) => pairs.some(([key]) => key.toLowerCase() === name);

/**
 * Sends a request and reads the whole response. Options: `headers`
 * (object or pairs), `body` (string or Uint8Array), `json` (a value to
 * send as JSON), `name` (stats group), `timeout` (seconds),
 * `redirects` (false to not follow). Throws WasmloadError when no
 * response came.
 */
function request(method, url, options = {}) {
  const headers = headerPairs(options.headers);
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    if (!hasHeader(headers, "content-type")) headers.push(["content-type", "application/json"]);
  }
  const sent = {
    method,
    url,
    headers,
    body: toBytes(body),
    name: options.name ?? null,
    timeoutUs: micros(options.timeout),
    followRedirects: options.redirects !== false,
  };
  return new Response(unwrap(`${method} ${url}`, () => wit_http.send(sent)));
}

export const http = {
  request,
  get: (url, options) => request("GET", url, options),
  post: (url, options) => request("POST", url, options),
  put: (url, options) => request("PUT", url, options),
  patch: (url, options) => request("PATCH", url, options),
  del: (url, options) => request("DELETE", url, options),
  head: (url, options) => request("HEAD", url, options),
};

/**
 * A JSON request whose checks fail the request, not the task (Locust's
 * RestUser): JSON headers unless given, the parsed body as `response.js`
 * (null when empty or not JSON; not JSON fails the request), and anything
 * `check(response)` throws becomes the request's failure. Returns what
 * `check` returns, or undefined when the request failed.
 */
export function rest(method, url, options = {}, check = () => undefined) {
  const headers = headerPairs(options.headers);
  for (const name of ["content-type", "accept"]) {
    if (!hasHeader(headers, name)) headers.push([name, "application/json"]);
  }
  const response = request(method, url, { ...options, headers });
  response.js = null;
  if (response.body.length) {
    try {
      response.js = JSON.parse(response.text());
    } catch (error) {
      response.failure(`invalid JSON: ${error.message}`);
      return undefined;
    }
  }
  try {
    return check(response);
  } catch (error) {
    response.failure(reason(error));
    return undefined;
  }
}

// ---- gRPC, XML-RPC, TCP, UDP and events ----------------------------------

/** A gRPC call ended without a reply; `code` is its status code, if any. */
export class GrpcError extends WasmloadError {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function grpcCall(kind, method, message, options = {}) {
  const sent = {
    endpoint: options.endpoint ?? null,
    metadata: headerPairs(options.metadata),
    timeoutUs: micros(options.timeout),
  };
  try {
    return wit_grpc[kind](method, toBytes(message), sent);
  } catch (error) {
    const variant = error && error.payload;
    if (variant && variant.tag === "status") {
      throw new GrpcError(`${method}: status ${variant.val.code}: ${variant.val.message}`, variant.val.code);
    }
    if (variant) throw new GrpcError(`${method}: ${describe(variant)}`, null);
    throw error;
  }
}

export const grpc = {
  /** A unary call; returns `{ messages, metadata }` with one message. */
  unary: (method, message, options) => grpcCall("unary", method, message, options),
  /** A server-streaming call: every message the server sent. */
  serverStreaming: (method, message, options) => grpcCall("serverStreaming", method, message, options),
};

/** An XML-RPC `dateTime.iso8601` value, as its text. */
export class DateTime {
  constructor(text) {
    this.text = text;
  }
}

function flatten(value, nodes) {
  if (value === null || value === undefined) nodes.push({ tag: "nil" });
  else if (typeof value === "boolean") nodes.push({ tag: "boolean", val: value });
  else if (typeof value === "number" && Number.isInteger(value)) nodes.push({ tag: "int", val: value });
  else if (typeof value === "number") nodes.push({ tag: "double", val: value });
  else if (typeof value === "string") nodes.push({ tag: "string", val: value });
  else if (value instanceof DateTime) nodes.push({ tag: "datetime", val: value.text });
  else if (value instanceof Uint8Array) nodes.push({ tag: "base64", val: value });
  else if (Array.isArray(value)) {
    nodes.push({ tag: "array", val: value.length });
    value.forEach((item) => flatten(item, nodes));
  } else {
    nodes.push({ tag: "struct", val: Object.keys(value) });
    Object.values(value).forEach((item) => flatten(item, nodes));
  }
}

function rebuild(nodes, at) {
  const node = nodes[at.index++];
  switch (node.tag) {
    case "nil":
      return null;
    case "datetime":
      return new DateTime(node.val);
    case "array":
      return Array.from({ length: node.val }, () => rebuild(nodes, at));
    case "struct":
      return Object.fromEntries(node.val.map((name) => [name, rebuild(nodes, at)]));
    default:
      return node.val;
  }
}

export const xmlrpc = {
  /** Calls `method` at `url` with `params`; returns its value, throws on a fault. */
  call(url, method, ...params) {
    const nodes = [];
    params.forEach((param) => flatten(param, nodes));
    const answer = unwrap(method, () => wit_xmlrpc.call(url, method, nodes));
    return rebuild(answer, { index: 0 });
  },
};

export const tcp = {
  /** Connects to `host:port` (one `tcp connect` event); options `{ tls, timeout }`. */
  connect(address, options = {}) {
    const timeoutUs = micros(options.timeout);
    const handle = unwrap(`tcp connect ${address}`, () =>
      wit_tcp.Connection.connect(address, { timeoutUs, tls: options.tls ?? false }),
    );
    return {
      send: (data) => unwrap("tcp send", () => handle.send(toBytes(data))),
      receive: (max = 65536) => unwrap("tcp receive", () => handle.receive(max, timeoutUs)),
      receiveUntil: (delimiter, max = 1 << 20) =>
        unwrap("tcp receive", () => handle.receiveUntil(toBytes(delimiter), max, timeoutUs)),
      /** Sends `payload`, reads through `until`: one event named `name`. */
      request: (name, payload, until) =>
        unwrap(`tcp ${name}`, () => handle.request(name, toBytes(payload), toBytes(until), timeoutUs)),
      close: () => handle[Symbol.dispose](),
    };
  },
};

export const udp = {
  /** A socket to `host:port`; options `{ timeout }`. */
  connect(address, options = {}) {
    const timeoutUs = micros(options.timeout);
    const handle = unwrap(`udp connect ${address}`, () => wit_udp.Socket.connect(address));
    return {
      send: (data) => unwrap("udp send", () => handle.send(toBytes(data))),
      receive: (max = 65536) => unwrap("udp receive", () => handle.receive(max, timeoutUs)),
      /** Sends one datagram and waits for one back: one event named `name`. */
      request: (name, payload) => unwrap(`udp ${name}`, () => handle.request(name, toBytes(payload), timeoutUs)),
      close: () => handle[Symbol.dispose](),
    };
  },
};

// ---- PostgreSQL, WebSocket and MQTT ------------------------------------

/** A statement the server refused: `code` is its SQLSTATE (e.g. "23514"). */
export class PostgresError extends WasmloadError {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function pgCall(what, call) {
  try {
    return call();
  } catch (error) {
    const variant = error && error.payload;
    if (variant && variant.tag === "server") {
      throw new PostgresError(`${what}: ${variant.val.code} ${variant.val.message}`, variant.val.code);
    }
    if (variant && variant.tag) throw new PostgresError(`${what}: ${describe(variant)}`, null);
    throw error;
  }
}

// A JS value as a statement parameter: null, boolean, integer (int8),
// other number (float8), Uint8Array (bytea), anything else as text for the
// server to parse (BigInts, Dates as ISO 8601, other objects as JSON).
function pgValue(value) {
  if (value === null || value === undefined) return { tag: "null" };
  if (typeof value === "boolean") return { tag: "boolean", val: value };
  if (typeof value === "number" && Number.isSafeInteger(value)) return { tag: "int", val: value };
  if (typeof value === "number") return { tag: "float", val: value };
  if (value instanceof Uint8Array) return { tag: "bytes", val: value };
  if (value instanceof Date) return { tag: "text", val: value.toISOString() };
  if (typeof value === "object") return { tag: "text", val: JSON.stringify(value) };
  return { tag: "text", val: String(value) };
}

// A column value as JS (integers as numbers: int8 beyond 2^53 loses its low
// digits; select it `::text` to keep them).
const jsValue = (value) => (value.tag === "null" ? null : value.val);

// Rows as objects keyed by column name, as node-postgres returns them.
const pgRows = (answer) =>
  answer.rows.map((row) => Object.fromEntries(answer.columns.map((column, i) => [column, jsValue(row[i])])));

const pgSql = (statement) => (typeof statement === "string" ? { text: statement } : statement);

function pgStatementOptions(statement, options) {
  return { name: statement.name ?? null, timeoutUs: micros(statement.timeout ?? options.timeout) };
}

export const postgres = {
  /**
   * Connects to `url` (`postgres://user:password@host:5432/db`; "" is
   * --host): one `connect` event. Statements are strings with $1, $2, ...
   * or `{ text, name, timeout }`; `name` names the event (default: the
   * text with its literals elided).
   */
  connect(url = "", options = {}) {
    const handle = pgCall("connect", () =>
      wit_postgres.Connection.connect(url, { timeoutUs: micros(options.timeout) }),
    );
    const statementHandle = (prepared, text, timeoutUs) => ({
      /** Runs it; the rows as objects keyed by column name. */
      query: (params = []) => pgRows(pgCall(text, () => prepared.query(params.map(pgValue), timeoutUs))),
      /** Runs it; how many rows it changed. */
      execute: (params = []) => Number(pgCall(text, () => prepared.execute(params.map(pgValue), timeoutUs))),
      /** Releases it (the host and the server's copy). */
      close: () => prepared[Symbol.dispose](),
    });
    return {
      /** Runs a statement; the rows as objects keyed by column name (`rows.columns` too). */
      query(statement, params = []) {
        const { text, ...rest } = pgSql(statement);
        const answer = pgCall(text, () => handle.query(text, params.map(pgValue), pgStatementOptions(rest, options)));
        const rows = pgRows(answer);
        rows.columns = answer.columns;
        return rows;
      },
      /** Runs a statement; how many rows it changed. */
      execute(statement, params = []) {
        const { text, ...rest } = pgSql(statement);
        return Number(pgCall(text, () => handle.execute(text, params.map(pgValue), pgStatementOptions(rest, options))));
      },
      /** Prepares a statement once (one event `PREPARE name`) to run many times. */
      prepare(statement) {
        const { text, ...rest } = pgSql(statement);
        const settings = pgStatementOptions(rest, options);
        return statementHandle(pgCall(text, () => handle.prepare(text, settings)), text, settings.timeoutUs);
      },
      begin: () => pgCall("BEGIN", () => handle.begin()),
      commit: () => pgCall("COMMIT", () => handle.commit()),
      rollback: () => pgCall("ROLLBACK", () => handle.rollback()),
      /**
       * Runs `work()` in a transaction: COMMIT when it returns, ROLLBACK
       * (then the error rethrown) when it throws. Returns what it returns.
       */
      transaction(work) {
        pgCall("BEGIN", () => handle.begin());
        let value;
        try {
          value = work();
        } catch (error) {
          pgCall("ROLLBACK", () => handle.rollback());
          throw error;
        }
        pgCall("COMMIT", () => handle.commit());
        return value;
      },
      close: () => handle[Symbol.dispose](),
    };
  },
};

// A WebSocket message: a string is text, a Uint8Array binary.
const wsOut = (message) => (message instanceof Uint8Array ? { tag: "binary", val: message } : { tag: "text", val: String(message) });

export const websocket = {
  /**
   * Connects to `url` (`ws://host:port/path`, `wss://...`; "" is --host):
   * one `ws` event named `connect`. Options `{ headers, subprotocols,
   * timeout }`; the timeout is also the default of later calls. Messages
   * come back as strings (text) or Uint8Arrays (binary).
   */
  connect(url = "", options = {}) {
    const timeoutUs = micros(options.timeout);
    const handle = unwrap(`ws connect ${url}`, () =>
      wit_websocket.Connection.connect(url, {
        headers: headerPairs(options.headers),
        subprotocols: options.subprotocols ?? [],
        timeoutUs,
      }),
    );
    return {
      /** The subprotocol the server chose, or null. */
      subprotocol: () => handle.subprotocol() ?? null,
      send: (message) => unwrap("ws send", () => handle.send(wsOut(message))),
      /** The next message (pings are answered meanwhile). */
      receive: (timeout) => unwrap("ws receive", () => handle.receive(micros(timeout) ?? timeoutUs)).val,
      /** Sends `message` and returns the next one: one event named `name`. */
      request: (name, message, timeout) =>
        unwrap(`ws ${name}`, () => handle.request(name, wsOut(message), micros(timeout) ?? timeoutUs)).val,
      /** A ping, timed to its pong: one event named `ping`. */
      ping: (timeout) => unwrap("ws ping", () => handle.ping(micros(timeout) ?? timeoutUs)),
      /** Closes with `code` (1000: normal) and `reason`, as a browser's WebSocket does. */
      close: (code = 1000, reason = "") => unwrap("ws close", () => handle.close(code, reason)),
    };
  },
};

const QOS = ["at-most-once", "at-least-once", "exactly-once"];

function qos(level) {
  if (!QOS[level]) throw new WasmloadError(`QoS is 0, 1 or 2, not ${level}`);
  return QOS[level];
}

export const mqtt = {
  /**
   * Connects to `url` (`mqtt://[user:password@]host:1883`, `mqtts://...`;
   * "" is --host): one `mqtt` event named `connect`. Options `{ clientId,
   * keepAlive (seconds, 0: none), cleanSession (default true), timeout }`.
   */
  connect(url = "", options = {}) {
    const timeoutUs = micros(options.timeout);
    const handle = unwrap(`mqtt connect ${url}`, () =>
      wit_mqtt.Connection.connect(url, {
        clientId: options.clientId ?? null,
        keepAliveS: options.keepAlive ?? 0,
        cleanSession: options.cleanSession ?? true,
        timeoutUs,
      }),
    );
    return {
      /**
       * Publishes at QoS 0, 1 or 2, timed to its acknowledgement: one event
       * named `options.name` or the topic. Options `{ retain, name, timeout }`.
       */
      publish(topic, payload, level = 0, publishOptions = {}) {
        const message = { topic, payload: toBytes(payload), qos: qos(level), retain: publishOptions.retain ?? false };
        const timeout = micros(publishOptions.timeout) ?? timeoutUs;
        unwrap(`mqtt publish ${topic}`, () => handle.publish(publishOptions.name ?? null, message, timeout));
      },
      /** Subscribes; returns the QoS the broker granted. One event `subscribe FILTER`. */
      subscribe: (filter, level = 0, timeout) =>
        QOS.indexOf(unwrap(`mqtt subscribe ${filter}`, () => handle.subscribe(filter, qos(level), micros(timeout) ?? timeoutUs))),
      /** The next message: `{ topic, payload (Uint8Array), qos, retain }`. */
      receive(timeout) {
        const message = unwrap("mqtt receive", () => handle.receive(micros(timeout) ?? timeoutUs));
        return { ...message, qos: QOS.indexOf(message.qos) };
      },
      /** PINGREQ, timed to its PINGRESP: one event named `ping`. */
      ping: (timeout) => unwrap("mqtt ping", () => handle.ping(micros(timeout) ?? timeoutUs)),
      /** Says goodbye (DISCONNECT) and closes. */
      disconnect: () => unwrap("mqtt disconnect", () => handle.disconnect()),
    };
  },
};

export const events = {
  /** Records one request event; `responseTime` in seconds, `error` makes it a failure. */
  fire: (kind, name, responseTime, length = 0, error = null) =>
    wit_events.fire({ kind, name, responseTimeUs: micros(responseTime), responseLength: length, error }),
  counter: (name, value = 1) => wit_events.addCounter(name, value),
  trend: (name, value) => wit_events.addTrend(name, value),
  /** Times `work()` as one event: a failure if it throws. Returns its value. */
  time(kind, name, work) {
    const timer = new wit_events.Timer(kind, name);
    try {
      const value = work();
      timer.success(value && value.length ? value.length : 0);
      return value;
    } catch (error) {
      timer.failure(reason(error));
      throw error;
    } finally {
      timer[Symbol.dispose]();
    }
  },
};
