// The web platform's globals that libraries written for browsers and Node
// expect, which QuickJS lacks: `fetch` (with `Headers`, `Request`,
// `Response`) over the user's HTTP session, timers, `AbortController`,
// `URLSearchParams`, `FormData`, `Blob`, `TextEncoder` and `TextDecoder`.
//
// And `Promise`: componentize-qjs's non-async runtime never runs QuickJS's
// job queue, so a native promise's callbacks never run. This one keeps its
// own queue, which `settle` drains after each task, on-start and on-stop;
// the build (sdk/js/build.sh) lowers `async`/`await` to generators that use
// it. Host calls block the user, so a `fetch` is settled when it returns;
// its callbacks then run in order, as microtasks do.

import wit_context from "wasmload:user/context@0.1.0";
import wit_http from "wasmload:user/http@0.1.0";

// ---- UTF-8 ----------------------------------------------------------------

/** UTF-8 bytes of a string. */
export function utf8(text) {
  const bytes = [];
  for (const char of String(text)) {
    const code = char.codePointAt(0);
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return new Uint8Array(bytes);
}

/** The string that UTF-8 `bytes` encode (invalid sequences replaced). */
export function fromUtf8(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    const first = bytes[i];
    const extra = first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : first >= 0xc0 ? 1 : 0;
    let code = extra ? first & (0x3f >> extra) : first;
    let valid = first < 0x80 || (first >= 0xc0 && first < 0xf8);
    for (let k = 1; k <= extra; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) valid = false;
      else code = (code << 6) | (next & 63);
    }
    text += valid ? String.fromCodePoint(code) : "\ufffd";
    i += valid ? extra + 1 : 1;
  }
  return text;
}

class TextEncoder {
  get encoding() {
    return "utf-8";
  }
  encode(text = "") {
    return utf8(text);
  }
}

class TextDecoder {
  constructor(label = "utf-8") {
    if (!/^(utf-?8|unicode-1-1-utf-8)$/i.test(String(label).trim())) throw new RangeError(`TextDecoder: only UTF-8, not '${label}'`);
  }
  get encoding() {
    return "utf-8";
  }
  decode(input = new Uint8Array(0)) {
    return fromUtf8(asBytes(input));
  }
}

/** The bytes of a buffer source, not copied when it is already a Uint8Array. */
function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("expected an ArrayBuffer or a view of one");
}

// ---- Promise, microtasks and timers ---------------------------------------

const jobs = [];
const STATE = Symbol("promise state");
const VALUE = Symbol("promise value");
const REACTIONS = Symbol("promise reactions");
const [PENDING, FULFILLED, REJECTED] = [0, 1, 2];

/** Runs queued promise callbacks, and those they queue, until none is left. */
function runMicrotasks() {
  for (let i = 0; i < jobs.length; i++) jobs[i]();
  jobs.length = 0;
}

function settlePromise(promise, state, value) {
  if (promise[STATE] !== PENDING) return;
  promise[STATE] = state;
  promise[VALUE] = value;
  for (const reaction of promise[REACTIONS]) jobs.push(() => react(reaction, state, value));
  promise[REACTIONS] = null;
}

// The resolve and reject functions handed to an executor: the first call wins.
function resolvers(promise) {
  let done = false;
  const reject = (reason) => {
    if (done) return;
    done = true;
    settlePromise(promise, REJECTED, reason);
  };
  const resolve = (value) => {
    if (done) return;
    done = true;
    if (value === promise) return settlePromise(promise, REJECTED, new TypeError("a promise cannot resolve to itself"));
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return settlePromise(promise, FULFILLED, value);
    let then;
    try {
      then = value.then;
    } catch (error) {
      return settlePromise(promise, REJECTED, error);
    }
    if (typeof then !== "function") return settlePromise(promise, FULFILLED, value);
    jobs.push(() => {
      const [resolveInner, rejectInner] = resolvers(promise);
      try {
        then.call(value, resolveInner, rejectInner);
      } catch (error) {
        rejectInner(error);
      }
    });
  };
  return [resolve, reject];
}

function react({ onFulfilled, onRejected, resolve, reject }, state, value) {
  const handler = state === FULFILLED ? onFulfilled : onRejected;
  if (typeof handler !== "function") return (state === FULFILLED ? resolve : reject)(value);
  try {
    resolve(handler(value));
  } catch (error) {
    reject(error);
  }
}

/** ECMAScript's Promise, its callbacks queued for `settle` to run. */
class Promise {
  constructor(executor) {
    if (typeof executor !== "function") throw new TypeError("Promise resolver is not a function");
    this[STATE] = PENDING;
    this[VALUE] = undefined;
    this[REACTIONS] = [];
    const [resolve, reject] = resolvers(this);
    try {
      executor(resolve, reject);
    } catch (error) {
      reject(error);
    }
  }

  then(onFulfilled, onRejected) {
    let resolve, reject;
    const derived = new Promise((yes, no) => {
      resolve = yes;
      reject = no;
    });
    const reaction = { onFulfilled, onRejected, resolve, reject };
    if (this[STATE] === PENDING) this[REACTIONS].push(reaction);
    else jobs.push(() => react(reaction, this[STATE], this[VALUE]));
    return derived;
  }

  catch(onRejected) {
    return this.then(undefined, onRejected);
  }

  finally(onFinally) {
    if (typeof onFinally !== "function") return this.then(onFinally, onFinally);
    return this.then(
      (value) => Promise.resolve(onFinally()).then(() => value),
      (reason) =>
        Promise.resolve(onFinally()).then(() => {
          throw reason;
        }),
    );
  }

  static resolve(value) {
    return value instanceof Promise ? value : new Promise((resolve) => resolve(value));
  }

  static reject(reason) {
    return new Promise((_, reject) => reject(reason));
  }

  static withResolvers() {
    let resolve, reject;
    const promise = new Promise((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return { promise, resolve, reject };
  }

  static all(values) {
    return gather(values, (results, index, resolveAll, reject) => [
      (value) => {
        results[index] = value;
        resolveAll();
      },
      reject,
    ]);
  }

  static allSettled(values) {
    return gather(values, (results, index, resolveAll) => [
      (value) => {
        results[index] = { status: "fulfilled", value };
        resolveAll();
      },
      (reason) => {
        results[index] = { status: "rejected", reason };
        resolveAll();
      },
    ]);
  }

  static race(values) {
    return new Promise((resolve, reject) => {
      for (const value of values) Promise.resolve(value).then(resolve, reject);
    });
  }

  static any(values) {
    return new Promise((resolve, reject) => {
      const reasons = [];
      let pending = 1;
      const rejectIfAll = () => --pending === 0 && reject(new AggregateError(reasons, "all promises were rejected"));
      let index = 0;
      for (const value of values) {
        const at = index++;
        pending++;
        Promise.resolve(value).then(resolve, (reason) => {
          reasons[at] = reason;
          rejectIfAll();
        });
      }
      rejectIfAll();
    });
  }

  get [Symbol.toStringTag]() {
    return "Promise";
  }
}

// Promise.all and allSettled: one result per value, in order.
function gather(values, handlers) {
  return new Promise((resolve, reject) => {
    const results = [];
    let pending = 1;
    const resolveAll = () => --pending === 0 && resolve(results);
    let index = 0;
    for (const value of values) {
      pending++;
      results.push(undefined);
      Promise.resolve(value).then(...handlers(results, index++, resolveAll, reject));
    }
    resolveAll();
  });
}

const timers = new Map();
let lastTimer = 0;
const nowMs = () => wit_context.nowUs() / 1000;

function addTimer(callback, delay, args, repeat) {
  if (typeof callback !== "function") throw new TypeError("the timer's callback is not a function");
  const ms = Math.max(0, Number(delay) || 0);
  const id = ++lastTimer;
  timers.set(id, { due: nowMs() + ms, callback, args, every: repeat ? Math.max(1, ms) : null });
  return id;
}

/** The timer due first, if any. */
function nextTimer() {
  let next = null;
  for (const [id, timer] of timers) if (!next || timer.due < next[1].due) next = [id, timer];
  return next;
}

/** Runs the timers that are due, each followed by the microtasks it queued. */
function runDueTimers() {
  for (let next = nextTimer(); next && next[1].due <= nowMs(); next = nextTimer()) {
    const [id, timer] = next;
    if (timer.every === null) timers.delete(id);
    else timer.due += timer.every;
    try {
      timer.callback(...timer.args);
    } catch (error) {
      wit_context.log("error", `uncaught in a timer: ${error}`);
    }
    runMicrotasks();
  }
}

/**
 * Runs what `result` waits for: queued callbacks, then timers as they come
 * due (the user sleeps until each), until it settles. Returns its value or
 * throws its reason; a plain value is returned as it is. Timers left when it
 * settles run at a later call, if still set.
 */
export function settle(result) {
  runMicrotasks();
  runDueTimers();
  if (result === null || (typeof result !== "object" && typeof result !== "function") || typeof result.then !== "function") return result;
  const promise = Promise.resolve(result);
  runMicrotasks();
  while (promise[STATE] === PENDING) {
    const next = nextTimer();
    if (!next) throw new Error("the returned promise never settled: nothing it waits for is pending (a native promise, or one never resolved)");
    const wait = next[1].due - nowMs();
    if (wait > 0) wit_context.sleep(Math.ceil(wait * 1000));
    runDueTimers();
  }
  if (promise[STATE] === REJECTED) throw promise[VALUE];
  return promise[VALUE];
}

// ---- AbortController and AbortSignal ---------------------------------------

function domError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

class AbortSignal {
  constructor() {
    this.aborted = false;
    this.reason = undefined;
    this.onabort = null;
    this.listeners = [];
  }
  throwIfAborted() {
    if (this.aborted) throw this.reason;
  }
  addEventListener(type, listener) {
    if (type === "abort") this.listeners.push(listener);
  }
  removeEventListener(type, listener) {
    this.listeners = this.listeners.filter((known) => known !== listener);
  }
  static abort(reason) {
    const controller = new AbortController();
    controller.abort(reason);
    return controller.signal;
  }
  /** A signal aborted after `ms`; a fetch given it is limited to that time. */
  static timeout(ms) {
    const controller = new AbortController();
    controller.signal.deadline = nowMs() + ms;
    setTimeout(() => controller.abort(domError("TimeoutError", "The operation was aborted due to timeout")), ms);
    return controller.signal;
  }
  static any(signals) {
    const controller = new AbortController();
    for (const signal of signals) {
      if (signal.aborted) return AbortSignal.abort(signal.reason);
      signal.addEventListener("abort", () => controller.abort(signal.reason));
    }
    return controller.signal;
  }
}

class AbortController {
  constructor() {
    this.signal = new AbortSignal();
  }
  abort(reason = domError("AbortError", "This operation was aborted")) {
    const signal = this.signal;
    if (signal.aborted) return;
    signal.aborted = true;
    signal.reason = reason;
    const event = { type: "abort", target: signal };
    for (const listener of [signal.onabort, ...signal.listeners]) {
      if (typeof listener === "function") listener.call(signal, event);
      else if (listener && typeof listener.handleEvent === "function") listener.handleEvent(event);
    }
  }
}

// ---- URLSearchParams, Blob and FormData ------------------------------------

const formEncode = (text) =>
  encodeURIComponent(text)
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
const formDecode = (text) => decodeURIComponent(text.replace(/\+/g, " "));

class URLSearchParams {
  constructor(init = "") {
    this.pairs = [];
    if (typeof init === "string") {
      for (const part of init.replace(/^\?/, "").split("&")) {
        if (!part) continue;
        const at = part.indexOf("=");
        this.pairs.push(at < 0 ? [formDecode(part), ""] : [formDecode(part.slice(0, at)), formDecode(part.slice(at + 1))]);
      }
    } else if (init && typeof init[Symbol.iterator] === "function") {
      for (const [name, value] of init) this.pairs.push([String(name), String(value)]);
    } else if (init) {
      for (const [name, value] of Object.entries(init)) this.pairs.push([name, String(value)]);
    }
  }
  get size() {
    return this.pairs.length;
  }
  append(name, value) {
    this.pairs.push([String(name), String(value)]);
  }
  delete(name) {
    this.pairs = this.pairs.filter(([key]) => key !== name);
  }
  get(name) {
    return this.pairs.find(([key]) => key === name)?.[1] ?? null;
  }
  getAll(name) {
    return this.pairs.filter(([key]) => key === name).map(([, value]) => value);
  }
  has(name) {
    return this.pairs.some(([key]) => key === name);
  }
  set(name, value) {
    const at = this.pairs.findIndex(([key]) => key === name);
    if (at < 0) return this.append(name, value);
    this.pairs[at] = [String(name), String(value)];
    this.pairs = this.pairs.filter(([key], index) => key !== name || index === at);
  }
  sort() {
    this.pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this.pairs) callback.call(thisArg, value, name, this);
  }
  keys() {
    return this.pairs.map(([name]) => name)[Symbol.iterator]();
  }
  values() {
    return this.pairs.map(([, value]) => value)[Symbol.iterator]();
  }
  entries() {
    return this.pairs.map((pair) => [...pair])[Symbol.iterator]();
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  toString() {
    return this.pairs.map(([name, value]) => `${formEncode(name)}=${formEncode(value)}`).join("&");
  }
}

class Blob {
  constructor(parts = [], options = {}) {
    const chunks = parts.map((part) => (part instanceof Blob ? part.data : typeof part === "string" ? utf8(part) : asBytes(part)));
    this.data = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      this.data.set(chunk, at);
      at += chunk.length;
    }
    this.type = String(options.type ?? "").toLowerCase();
  }
  get size() {
    return this.data.length;
  }
  slice(start = 0, end = this.size, type = "") {
    return new Blob([this.data.slice(start, end)], { type });
  }
  arrayBuffer() {
    return Promise.resolve(this.data.slice().buffer);
  }
  bytes() {
    return Promise.resolve(this.data.slice());
  }
  text() {
    return Promise.resolve(fromUtf8(this.data));
  }
}

class File extends Blob {
  constructor(parts, name, options = {}) {
    super(parts, options);
    this.name = String(name);
    this.lastModified = options.lastModified ?? Date.now();
  }
}

class FormData {
  constructor() {
    this.entriesList = [];
  }
  append(name, value, filename) {
    this.entriesList.push([String(name), formValue(value, filename)]);
  }
  delete(name) {
    this.entriesList = this.entriesList.filter(([key]) => key !== name);
  }
  get(name) {
    return this.entriesList.find(([key]) => key === name)?.[1] ?? null;
  }
  getAll(name) {
    return this.entriesList.filter(([key]) => key === name).map(([, value]) => value);
  }
  has(name) {
    return this.entriesList.some(([key]) => key === name);
  }
  set(name, value, filename) {
    this.delete(name);
    this.append(name, value, filename);
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this.entriesList) callback.call(thisArg, value, name, this);
  }
  entries() {
    return this.entriesList[Symbol.iterator]();
  }
  [Symbol.iterator]() {
    return this.entries();
  }
}

const formValue = (value, filename) =>
  value instanceof Blob ? new File([value], filename ?? (value instanceof File ? value.name : "blob"), { type: value.type }) : String(value);

/** multipart/form-data: the body and its content type. */
function multipart(form) {
  const boundary = `----wasmload${Math.random().toString(16).slice(2)}${Math.random().toString(16).slice(2)}`;
  const quote = (text) => text.replace(/"/g, "%22").replace(/\r?\n|\r/g, " ");
  const parts = [];
  for (const [name, value] of form) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"`;
    if (value instanceof File) head += `; filename="${quote(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}`;
    parts.push(`${head}\r\n\r\n`, value instanceof File ? value : value.replace(/\r?\n|\r/g, "\r\n"), "\r\n");
  }
  parts.push(`--${boundary}--\r\n`);
  return [new Blob(parts).data, `multipart/form-data; boundary=${boundary}`];
}

// ---- Headers, Request, Response and fetch -----------------------------------

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

class Headers {
  constructor(init) {
    this.map = new Map();
    if (init instanceof Headers) for (const [name, values] of init.map) this.map.set(name, [...values]);
    else if (init && typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        if (pair.length !== 2) throw new TypeError("Headers: each pair needs a name and a value");
        this.append(pair[0], pair[1]);
      }
    } else if (init) for (const [name, value] of Object.entries(init)) this.append(name, value);
  }
  static key(name) {
    const text = String(name);
    if (!HEADER_NAME.test(text)) throw new TypeError(`Headers: '${text}' is not a valid header name`);
    return text.toLowerCase();
  }
  append(name, value) {
    const key = Headers.key(name);
    const values = this.map.get(key) ?? [];
    values.push(String(value).trim());
    this.map.set(key, values);
  }
  delete(name) {
    this.map.delete(Headers.key(name));
  }
  get(name) {
    const values = this.map.get(Headers.key(name));
    return values ? values.join(", ") : null;
  }
  getSetCookie() {
    return [...(this.map.get("set-cookie") ?? [])];
  }
  has(name) {
    return this.map.has(Headers.key(name));
  }
  set(name, value) {
    this.map.set(Headers.key(name), [String(value).trim()]);
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this) callback.call(thisArg, value, name, this);
  }
  *entries() {
    for (const name of [...this.map.keys()].sort()) {
      if (name === "set-cookie") for (const value of this.map.get(name)) yield [name, value];
      else yield [name, this.map.get(name).join(", ")];
    }
  }
  *keys() {
    for (const [name] of this.entries()) yield name;
  }
  *values() {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
}

/** A body as fetch extracts it: bytes, and the content type it implies. */
function extractBody(body) {
  if (body === null || body === undefined) return [null, null];
  if (typeof body === "string") return [utf8(body), "text/plain;charset=UTF-8"];
  if (body instanceof URLSearchParams) return [utf8(body.toString()), "application/x-www-form-urlencoded;charset=UTF-8"];
  if (body instanceof FormData) return multipart(body);
  if (body instanceof Blob) return [body.data, body.type || null];
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return [asBytes(body).slice(), null];
  return [utf8(String(body)), "text/plain;charset=UTF-8"];
}

/** One pass over the whole body, as a ReadableStream's reader gives it. */
class BodyStream {
  constructor(owner) {
    this.owner = owner;
  }
  getReader() {
    const owner = this.owner;
    let read = false;
    return {
      read() {
        if (read) return Promise.resolve({ value: undefined, done: true });
        read = true;
        return owner.consume().then((value) => (value.length ? { value, done: false } : { value: undefined, done: true }));
      },
      releaseLock() {},
      cancel() {
        return Promise.resolve();
      },
      closed: Promise.resolve(),
    };
  }
  async *[Symbol.asyncIterator]() {
    const reader = this.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) yield chunk.value;
  }
}

// What Request and Response share: a body read once.
class Body {
  initBody(bytes) {
    this.bytes = bytes;
    this.bodyUsed = false;
    this.body = bytes === null ? null : new BodyStream(this);
  }
  consume() {
    if (this.bodyUsed) return Promise.reject(new TypeError("Body is unusable: it has already been read"));
    this.bodyUsed = true;
    return Promise.resolve(this.bytes ?? new Uint8Array(0));
  }
  text() {
    return this.consume().then(fromUtf8);
  }
  json() {
    return this.text().then(JSON.parse);
  }
  arrayBuffer() {
    return this.consume().then((bytes) => bytes.slice().buffer);
  }
  bytes() {
    return this.consume().then((bytes) => bytes.slice());
  }
  blob() {
    return this.consume().then((bytes) => new Blob([bytes], { type: this.headers.get("content-type") ?? "" }));
  }
  formData() {
    return Promise.reject(new TypeError("formData() is not supported: read the body with text()"));
  }
}

const STANDARD_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];

class Request extends Body {
  constructor(input, init = {}) {
    super();
    const from = input instanceof Request ? input : null;
    this.url = from ? from.url : typeof input === "string" ? input : String(input?.href ?? input);
    const method = String(init.method ?? from?.method ?? "GET");
    this.method = STANDARD_METHODS.includes(method.toUpperCase()) ? method.toUpperCase() : method;
    this.headers = new Headers(init.headers ?? from?.headers);
    this.redirect = init.redirect ?? from?.redirect ?? "follow";
    this.signal = init.signal ?? from?.signal ?? new AbortSignal();
    this.credentials = init.credentials ?? from?.credentials ?? "same-origin";
    this.mode = init.mode ?? from?.mode ?? "cors";
    this.cache = init.cache ?? from?.cache ?? "default";
    let bytes = from ? from.bytes : null;
    if (init.body !== undefined && init.body !== null) {
      if (this.method === "GET" || this.method === "HEAD") throw new TypeError(`Request with ${this.method} method cannot have a body`);
      const [extracted, type] = extractBody(init.body);
      bytes = extracted;
      if (type && !this.headers.has("content-type")) this.headers.set("content-type", type);
    }
    this.initBody(bytes);
  }
  clone() {
    if (this.bodyUsed) throw new TypeError("Request.clone: the body has already been read");
    return new Request(this);
  }
}

const REASONS = {
  100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
  204: "No Content", 205: "Reset Content", 206: "Partial Content", 300: "Multiple Choices", 301: "Moved Permanently",
  302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
  409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
  414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
  418: "I'm a Teapot", 421: "Misdirected Request", 422: "Unprocessable Content", 423: "Locked", 424: "Failed Dependency",
  425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons", 500: "Internal Server Error",
  501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
  505: "HTTP Version Not Supported", 507: "Insufficient Storage", 511: "Network Authentication Required",
};

class Response extends Body {
  constructor(body = null, init = {}) {
    super();
    this.status = init.status ?? 200;
    if (this.status < 200 || this.status > 599) throw new RangeError(`Response: status ${this.status} is not in 200-599`);
    this.statusText = init.statusText ?? "";
    this.headers = new Headers(init.headers);
    this.type = "default";
    this.url = "";
    this.redirected = false;
    const [bytes, type] = extractBody(body);
    if (type && !this.headers.has("content-type")) this.headers.set("content-type", type);
    this.initBody(bytes);
  }
  get ok() {
    return this.status >= 200 && this.status < 300;
  }
  clone() {
    if (this.bodyUsed) throw new TypeError("Response.clone: the body has already been read");
    return received(this.bytes, this.status, this.statusText, this.headers, this.url, this.redirected);
  }
  static json(data, init = {}) {
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(JSON.stringify(data), { ...init, headers });
  }
  static error() {
    const response = new Response(null, { status: 200 });
    response.status = 0;
    response.type = "error";
    return response;
  }
  static redirect(url, status = 302) {
    return new Response(null, { status, headers: { location: String(url) } });
  }
}

/** A Response as the network gave it (any status, the final URL). */
function received(bytes, status, statusText, headers, url, redirected) {
  const response = new Response(null, { headers });
  Object.assign(response, { status, statusText, url, redirected, type: "basic" });
  response.initBody(bytes);
  return response;
}

/** A URL as the host sends it: a relative one under --host. */
function underHost(url) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
  const host = (wit_context.host() ?? "").replace(/\/+$/, "");
  return url.startsWith("/") ? host + url : `${host}/${url}`;
}

/** The header that names a request's event in the stats; it is not sent. */
const NAME_HEADER = "x-wasmload-name";

// fetch's errors: a TypeError as undici's, its cause saying what the host saw.
function networkError(error) {
  const variant = error?.payload;
  if (!variant?.tag) return error;
  if (variant.tag === "timeout") return domError("TimeoutError", "The operation was aborted due to timeout");
  const kind = variant.tag.replace(/([A-Z])/g, " $1").toLowerCase();
  const cause = new Error(variant.val === undefined ? kind : `${kind}: ${variant.val}`);
  const failed = new TypeError("fetch failed");
  failed.cause = cause;
  return failed;
}

/**
 * The standard fetch over the user's HTTP session: one event per call,
 * named by the URL (or an `x-wasmload-name` header, which is not sent). A
 * relative URL is under --host. The exchange happens in the call; its time
 * limit is `AbortSignal.timeout`'s, or else --timeout.
 */
function fetch(input, init) {
  return new Promise((resolve, reject) => {
    const request = new Request(input, init);
    request.signal.throwIfAborted();
    const name = request.headers.get(NAME_HEADER);
    request.headers.delete(NAME_HEADER);
    const deadline = request.signal.deadline;
    const sent = {
      method: request.method,
      url: request.url,
      headers: [...request.headers],
      body: request.bytes ?? new Uint8Array(0),
      name,
      timeoutUs: deadline === undefined ? null : Math.max(1, Math.round((deadline - nowMs()) * 1000)),
      followRedirects: request.redirect === "follow",
    };
    let handle;
    try {
      handle = wit_http.send(sent);
    } catch (error) {
      return reject(networkError(error));
    }
    const status = handle.status();
    const response = received(
      request.method === "HEAD" || [101, 204, 205, 304].includes(status) ? null : handle.body(),
      status,
      REASONS[status] ?? "",
      handle.headers(),
      handle.url(),
      request.redirect === "follow" && handle.url() !== underHost(request.url),
    );
    // Dropped unjudged, the event is recorded now (400 and up failed), and
    // a library holding responses holds no host slot.
    handle[Symbol.dispose]();
    if (request.redirect === "error" && status >= 300 && status < 400) {
      const failed = new TypeError("fetch failed");
      failed.cause = new Error(`redirect mode is "error" and the answer was ${status}`);
      return reject(failed);
    }
    resolve(response);
  });
}

const globals = {
  AbortController, AbortSignal, Blob, File, FormData, Headers, Promise, Request, Response, TextDecoder, TextEncoder,
  URLSearchParams, fetch,
  queueMicrotask: (callback) => jobs.push(() => {
    try {
      callback();
    } catch (error) {
      wit_context.log("error", `uncaught in a microtask: ${error}`);
    }
  }),
  setTimeout: (callback, delay, ...args) => addTimer(callback, delay, args, false),
  setInterval: (callback, delay, ...args) => addTimer(callback, delay, args, true),
  clearTimeout: (id) => timers.delete(id),
  clearInterval: (id) => timers.delete(id),
};
for (const [name, value] of Object.entries(globals)) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
