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

/** UTF-8 bytes of a string; a lone surrogate becomes U+FFFD. */
export function utf8(text) {
  const bytes = [];
  for (const char of String(text)) {
    let code = char.codePointAt(0);
    if (code >= 0xd800 && code < 0xe000) code = 0xfffd;
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return new Uint8Array(bytes);
}

/**
 * The string that UTF-8 `bytes` encode, each invalid sequence (overlong,
 * surrogate, past U+10FFFF, cut short) one U+FFFD, as the Encoding
 * standard decodes.
 */
export function fromUtf8(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    const first = bytes[i];
    if (first < 0x80) {
      text += String.fromCharCode(first);
      i++;
      continue;
    }
    const extra = first >= 0xc2 && first <= 0xdf ? 1 : first >= 0xe0 && first <= 0xef ? 2 : first >= 0xf0 && first <= 0xf4 ? 3 : 0;
    // The second byte's range rules out overlongs, surrogates and code points past U+10FFFF.
    const low = first === 0xe0 ? 0xa0 : first === 0xf0 ? 0x90 : 0x80;
    const high = first === 0xed ? 0x9f : first === 0xf4 ? 0x8f : 0xbf;
    let code = first & (0x3f >> extra);
    let taken = 1;
    for (; taken <= extra; taken++) {
      const next = bytes[i + taken];
      const [min, max] = taken === 1 ? [low, high] : [0x80, 0xbf];
      if (next === undefined || next < min || next > max) break;
      code = (code << 6) | (next & 63);
    }
    if (extra && taken > extra) text += String.fromCodePoint(code);
    else text += "\ufffd";
    i += taken;
  }
  return text;
}

/** The text of a body: UTF-8, a leading byte order mark dropped. */
const bodyText = (bytes) => fromUtf8(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes);

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
    return bodyText(asBytes(input));
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

/** The timer due first, of those with an id up to `last`. */
function nextTimer(last = lastTimer) {
  let next = null;
  for (const [id, timer] of timers) if (id <= last && (!next || timer.due < next[1].due)) next = [id, timer];
  return next;
}

/**
 * Runs the timers due now, each followed by the microtasks it queued. A
 * timer set meanwhile, or an interval's next turn, waits for the next pass.
 */
function runDueTimers() {
  const [now, last] = [nowMs(), lastTimer];
  const passed = new Set();
  for (let next = nextTimer(last); next && next[1].due <= now && !passed.has(next[0]); next = nextTimer(last)) {
    const [id, timer] = next;
    passed.add(id);
    if (timer.every === null) timers.delete(id);
    try {
      timer.callback(...timer.args);
    } catch (error) {
      wit_context.log("error", `uncaught in a timer: ${error}`);
    }
    // As Node does: an interval's next turn counts from the end of this one.
    if (timer.every !== null) timer.due = nowMs() + timer.every;
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
    if (!next) throw new Error("the returned promise never settled: no timer or callback is left that could settle it");
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

/** When a signal made by AbortSignal.timeout (or any() of one) aborts: a fetch's time limit. */
const deadlines = new WeakMap();
/** The method that aborts a signal, for AbortController alone. */
const ABORT = Symbol("abort");

class AbortSignal {
  #aborted = false;
  #reason = undefined;
  #listeners = [];
  onabort = null;

  get aborted() {
    return this.#aborted;
  }
  get reason() {
    return this.#reason;
  }
  throwIfAborted() {
    if (this.#aborted) throw this.#reason;
  }
  addEventListener(type, listener) {
    if (type === "abort" && listener) this.#listeners.push(listener);
  }
  removeEventListener(type, listener) {
    this.#listeners = this.#listeners.filter((known) => known !== listener);
  }
  [ABORT](reason) {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const event = { type: "abort", target: this };
    for (const listener of [this.onabort, ...this.#listeners]) {
      if (typeof listener === "function") listener.call(this, event);
      else if (listener && typeof listener.handleEvent === "function") listener.handleEvent(event);
    }
  }
  static abort(reason = domError("AbortError", "This operation was aborted")) {
    const signal = new AbortSignal();
    signal[ABORT](reason);
    return signal;
  }
  /** A signal aborted after `ms`; a fetch given it is limited to that time. */
  static timeout(ms) {
    const signal = new AbortSignal();
    deadlines.set(signal, nowMs() + ms);
    setTimeout(() => signal[ABORT](domError("TimeoutError", "The operation was aborted due to timeout")), ms);
    return signal;
  }
  /** Aborted when any of `signals` is; its time limit is the soonest of theirs. */
  static any(signals) {
    const signal = new AbortSignal();
    for (const given of signals) {
      if (given.aborted) return AbortSignal.abort(given.reason);
      given.addEventListener("abort", () => signal[ABORT](given.reason));
      const deadline = deadlines.get(given);
      if (deadline !== undefined && !(deadlines.get(signal) <= deadline)) deadlines.set(signal, deadline);
    }
    return signal;
  }
}

class AbortController {
  #signal = new AbortSignal();
  get signal() {
    return this.#signal;
  }
  abort(reason = domError("AbortError", "This operation was aborted")) {
    this.#signal[ABORT](reason);
  }
}

// ---- URLSearchParams, Blob and FormData ------------------------------------

const formEncode = (text) =>
  encodeURIComponent(text)
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");

/** application/x-www-form-urlencoded decoding: `%` not followed by two hex digits stays. */
function formDecode(text) {
  const bytes = [];
  const plain = text.replace(/\+/g, " ");
  for (let i = 0; i < plain.length; i++) {
    if (plain[i] === "%" && /^[0-9a-fA-F]{2}$/.test(plain.slice(i + 1, i + 3))) {
      bytes.push(parseInt(plain.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const byte of utf8(plain[i])) bytes.push(byte);
    }
  }
  return fromUtf8(bytes);
}

class URLSearchParams {
  #pairs = [];
  constructor(init = "") {
    if (typeof init === "string") {
      for (const part of init.replace(/^\?/, "").split("&")) {
        if (!part) continue;
        const at = part.indexOf("=");
        this.#pairs.push(at < 0 ? [formDecode(part), ""] : [formDecode(part.slice(0, at)), formDecode(part.slice(at + 1))]);
      }
    } else if (init && typeof init[Symbol.iterator] === "function") {
      for (const [name, value] of init) this.#pairs.push([String(name), String(value)]);
    } else if (init) {
      for (const [name, value] of Object.entries(init)) this.#pairs.push([name, String(value)]);
    }
  }
  get size() {
    return this.#pairs.length;
  }
  append(name, value) {
    this.#pairs.push([String(name), String(value)]);
  }
  delete(name) {
    this.#pairs = this.#pairs.filter(([key]) => key !== name);
  }
  get(name) {
    return this.#pairs.find(([key]) => key === name)?.[1] ?? null;
  }
  getAll(name) {
    return this.#pairs.filter(([key]) => key === name).map(([, value]) => value);
  }
  has(name) {
    return this.#pairs.some(([key]) => key === name);
  }
  set(name, value) {
    const at = this.#pairs.findIndex(([key]) => key === name);
    if (at < 0) return this.append(name, value);
    this.#pairs[at] = [String(name), String(value)];
    this.#pairs = this.#pairs.filter(([key], index) => key !== name || index === at);
  }
  sort() {
    this.#pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this.#pairs) callback.call(thisArg, value, name, this);
  }
  keys() {
    return this.#pairs.map(([name]) => name)[Symbol.iterator]();
  }
  values() {
    return this.#pairs.map(([, value]) => value)[Symbol.iterator]();
  }
  entries() {
    return this.#pairs.map((pair) => [...pair])[Symbol.iterator]();
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  toString() {
    return this.#pairs.map(([name, value]) => `${formEncode(name)}=${formEncode(value)}`).join("&");
  }
}

/** A Blob's bytes. */
const blobBytes = new WeakMap();

class Blob {
  #type;
  constructor(parts = [], options = {}) {
    const chunks = [...parts].map((part) => (part instanceof Blob ? blobBytes.get(part) : typeof part === "string" ? utf8(part) : asBytes(part)));
    const data = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    blobBytes.set(this, data);
    this.#type = String(options.type ?? "").toLowerCase();
  }
  get type() {
    return this.#type;
  }
  get size() {
    return blobBytes.get(this).length;
  }
  slice(start = 0, end = this.size, type = "") {
    return new Blob([blobBytes.get(this).slice(start, end)], { type });
  }
  arrayBuffer() {
    return Promise.resolve(blobBytes.get(this).slice().buffer);
  }
  bytes() {
    return Promise.resolve(blobBytes.get(this).slice());
  }
  text() {
    return Promise.resolve(fromUtf8(blobBytes.get(this)));
  }
}

class File extends Blob {
  #name;
  #lastModified;
  constructor(parts, name, options = {}) {
    super(parts, options);
    this.#name = String(name);
    this.#lastModified = options.lastModified ?? Date.now();
  }
  get name() {
    return this.#name;
  }
  get lastModified() {
    return this.#lastModified;
  }
}

class FormData {
  #entries = [];
  append(name, value, filename) {
    this.#entries.push([String(name), formValue(value, filename)]);
  }
  delete(name) {
    this.#entries = this.#entries.filter(([key]) => key !== name);
  }
  get(name) {
    return this.#entries.find(([key]) => key === name)?.[1] ?? null;
  }
  getAll(name) {
    return this.#entries.filter(([key]) => key === name).map(([, value]) => value);
  }
  has(name) {
    return this.#entries.some(([key]) => key === name);
  }
  set(name, value, filename) {
    this.delete(name);
    this.append(name, value, filename);
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this.#entries) callback.call(thisArg, value, name, this);
  }
  entries() {
    return [...this.#entries][Symbol.iterator]();
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
  return [blobBytes.get(new Blob(parts)), `multipart/form-data; boundary=${boundary}`];
}

// ---- Headers, Request, Response and fetch -----------------------------------

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerKey(name) {
  const text = String(name);
  if (!HEADER_NAME.test(text)) throw new TypeError(`Headers: '${text}' is not a valid header name`);
  return text.toLowerCase();
}

class Headers {
  #map = new Map();
  constructor(init) {
    if (init instanceof Headers) for (const [name, value] of init.#pairs()) this.append(name, value);
    else if (init && typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        if (pair.length !== 2) throw new TypeError("Headers: each pair needs a name and a value");
        this.append(pair[0], pair[1]);
      }
    } else if (init) for (const [name, value] of Object.entries(init)) this.append(name, value);
  }
  /** Every value as it was added, set-cookie ones apart. */
  *#pairs() {
    for (const [name, values] of this.#map) for (const value of values) yield [name, value];
  }
  append(name, value) {
    const key = headerKey(name);
    const values = this.#map.get(key) ?? [];
    values.push(String(value).trim());
    this.#map.set(key, values);
  }
  delete(name) {
    this.#map.delete(headerKey(name));
  }
  get(name) {
    const values = this.#map.get(headerKey(name));
    return values ? values.join(", ") : null;
  }
  getSetCookie() {
    return [...(this.#map.get("set-cookie") ?? [])];
  }
  has(name) {
    return this.#map.has(headerKey(name));
  }
  set(name, value) {
    this.#map.set(headerKey(name), [String(value).trim()]);
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this) callback.call(thisArg, value, name, this);
  }
  *entries() {
    for (const name of [...this.#map.keys()].sort()) {
      if (name === "set-cookie") for (const value of this.#map.get(name)) yield [name, value];
      else yield [name, this.#map.get(name).join(", ")];
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
  if (body instanceof Blob) return [blobBytes.get(body), body.type || null];
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return [asBytes(body).slice(), null];
  if (typeof body === "object" || typeof body === "function") {
    throw new TypeError("fetch: a body must be a string, bytes, Blob, FormData or URLSearchParams (streams are not supported)");
  }
  return [utf8(String(body)), "text/plain;charset=UTF-8"];
}

/** One pass over the whole body, as a ReadableStream's reader gives it. */
class BodyStream {
  #owner;
  constructor(owner) {
    this.#owner = owner;
  }
  getReader() {
    const owner = this.#owner;
    let read = false;
    return {
      read() {
        if (read) return Promise.resolve({ value: undefined, done: true });
        read = true;
        return owner.bytes().then((value) => (value.length ? { value, done: false } : { value: undefined, done: true }));
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

/** A body's bytes (null: none), and whether it has been read. */
const bodies = new WeakMap();

// What Request and Response share: a body read once.
class Body {
  #stream = null;
  get body() {
    const body = bodies.get(this);
    if (body.bytes === null) return null;
    return (this.#stream ??= new BodyStream(this));
  }
  get bodyUsed() {
    return bodies.get(this).used;
  }
  #consume() {
    const body = bodies.get(this);
    // No body at all can be "read" again, as in browsers.
    if (body.bytes === null) return Promise.resolve(new Uint8Array(0));
    if (body.used) return Promise.reject(new TypeError("Body is unusable: it has already been read"));
    body.used = true;
    return Promise.resolve(body.bytes);
  }
  text() {
    return this.#consume().then(bodyText);
  }
  json() {
    return this.text().then(JSON.parse);
  }
  arrayBuffer() {
    return this.#consume().then((bytes) => bytes.slice().buffer);
  }
  bytes() {
    return this.#consume().then((bytes) => bytes.slice());
  }
  blob() {
    return this.#consume().then((bytes) => new Blob([bytes], { type: this.headers.get("content-type") ?? "" }));
  }
  formData() {
    return Promise.reject(new TypeError("formData() is not supported: read the body with text()"));
  }
}

const STANDARD_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/** A Request's fields, kept off the object so that spreading it copies nothing. */
const requests = new WeakMap();

class Request extends Body {
  constructor(input, init = {}) {
    super();
    const from = input instanceof Request ? requests.get(input) : null;
    const method = String(init.method ?? from?.method ?? "GET");
    const fields = {
      url: from ? from.url : typeof input === "string" ? input : String(input?.href ?? input),
      method: STANDARD_METHODS.includes(method.toUpperCase()) ? method.toUpperCase() : method,
      headers: new Headers(init.headers ?? from?.headers),
      redirect: init.redirect ?? from?.redirect ?? "follow",
      signal: init.signal ?? from?.signal ?? new AbortSignal(),
      credentials: init.credentials ?? from?.credentials ?? "same-origin",
      mode: init.mode ?? from?.mode ?? "cors",
      cache: init.cache ?? from?.cache ?? "default",
    };
    let bytes = input instanceof Request ? bodies.get(input).bytes : null;
    if (init.body !== undefined && init.body !== null) {
      if (fields.method === "GET" || fields.method === "HEAD") throw new TypeError(`Request with ${fields.method} method cannot have a body`);
      const [extracted, type] = extractBody(init.body);
      bytes = extracted;
      if (type && !fields.headers.has("content-type")) fields.headers.set("content-type", type);
    }
    requests.set(this, fields);
    bodies.set(this, { bytes, used: false });
  }
  get url() {
    return requests.get(this).url;
  }
  get method() {
    return requests.get(this).method;
  }
  get headers() {
    return requests.get(this).headers;
  }
  get redirect() {
    return requests.get(this).redirect;
  }
  get signal() {
    return requests.get(this).signal;
  }
  get credentials() {
    return requests.get(this).credentials;
  }
  get mode() {
    return requests.get(this).mode;
  }
  get cache() {
    return requests.get(this).cache;
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

/** A Response's fields, kept off the object as a Request's are. */
const responses = new WeakMap();

class Response extends Body {
  constructor(body = null, init = {}) {
    super();
    const status = init.status ?? 200;
    if (status < 200 || status > 599) throw new RangeError(`Response: status ${status} is not in 200-599`);
    const headers = new Headers(init.headers);
    const [bytes, type] = extractBody(body);
    if (type && !headers.has("content-type")) headers.set("content-type", type);
    responses.set(this, { status, statusText: init.statusText ?? "", headers, type: "default", url: "", redirected: false });
    bodies.set(this, { bytes, used: false });
  }
  get status() {
    return responses.get(this).status;
  }
  get statusText() {
    return responses.get(this).statusText;
  }
  get headers() {
    return responses.get(this).headers;
  }
  get type() {
    return responses.get(this).type;
  }
  get url() {
    return responses.get(this).url;
  }
  get redirected() {
    return responses.get(this).redirected;
  }
  get ok() {
    return this.status >= 200 && this.status < 300;
  }
  clone() {
    if (this.bodyUsed) throw new TypeError("Response.clone: the body has already been read");
    const fields = responses.get(this);
    return received(bodies.get(this).bytes, { ...fields, headers: new Headers(fields.headers) });
  }
  static json(data, init = {}) {
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(JSON.stringify(data), { ...init, headers });
  }
  static error() {
    return received(null, { status: 0, statusText: "", headers: new Headers(), type: "error", url: "", redirected: false });
  }
  static redirect(url, status = 302) {
    return new Response(null, { status, headers: { location: String(url) } });
  }
}

/** A Response as the network gave it: any status, its fields as given. */
function received(bytes, fields) {
  const response = new Response();
  responses.set(response, fields);
  bodies.set(response, { bytes, used: false });
  return response;
}

/**
 * `url` as the host sends it, for comparing with where the answer came
 * from: a relative one resolved against --host as the host resolves it
 * (a path with `/` appended, as Locust does), scheme and host in lower
 * case, a default port and an empty path as the host writes them.
 */
function asSent(url) {
  let absolute = url;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    const host = wit_context.host() ?? "";
    absolute = url.startsWith("/") ? host.replace(/\/+$/, "") + url : host.replace(/[^/]*$/, "") + url;
  }
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(absolute);
  if (!match) return absolute;
  const [, scheme, authority, rest] = match;
  const lower = scheme.toLowerCase();
  const defaultPort = lower === "http" ? ":80" : lower === "https" ? ":443" : null;
  let host = authority.toLowerCase();
  if (defaultPort && host.endsWith(defaultPort)) host = host.slice(0, -defaultPort.length);
  return `${lower}://${host}${rest.startsWith("/") ? rest : `/${rest}`}`;
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
    const deadline = deadlines.get(request.signal);
    const sent = {
      method: request.method,
      url: request.url,
      headers: [...request.headers],
      body: bodies.get(request).bytes ?? new Uint8Array(0),
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
    const url = handle.url();
    const response = received(request.method === "HEAD" || [101, 204, 205, 304].includes(status) ? null : handle.body(), {
      status,
      statusText: REASONS[status] ?? "",
      headers: new Headers(handle.headers()),
      type: "basic",
      url,
      redirected: request.redirect === "follow" && url !== asSent(request.url),
    });
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
