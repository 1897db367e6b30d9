// Checks of the SDK's `fetch` and the web globals around it against the test
// target (tests/src/target.rs), one task per behaviour, each an async
// function; a check that fails is a task error naming it.
//
// `-e REFUSED_URL=...` is a URL where nothing listens.
import { context, users } from "wasmload";

function expect(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** The error `promise` rejects with; a check fails if it fulfils. */
async function rejection(promise, what) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`check failed: ${what} did not reject`);
}

export const behaviour = users({
  name: "checks",
  async onStart() {
    const login = await fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "u", password: "p" }),
    });
    expect(login.ok && login.status === 200 && login.statusText === "OK", `login answered ${login.status}`);
    expect(login.headers.getSetCookie().some((cookie) => cookie.startsWith("session=")), "login set a cookie");
    expect((await login.json()).token, "a token");
  },
  tasks: {
    async cookieIsSentBack() {
      // The host's jar sends the cookie; the guest adds nothing.
      const me = await fetch("/me");
      expect(me.status === 200, `/me answered ${me.status}`);
    },
    async jsonAndHeaders() {
      const items = await fetch("/items?page=2");
      expect(JSON.stringify(await items.json()) === '[{"id":1},{"id":2},{"id":3}]', "items");
      expect(items.headers.get("Content-Length") === "28" && items.headers.has("content-length"), "header case");
      const echoed = await fetch("/headers", { headers: { Accept: "text/plain", "X-Wasmload-Name": "echo" } }).then((answer) => answer.json());
      expect(echoed.accept === "text/plain", `accept sent: ${JSON.stringify(echoed)}`);
      expect(!("x-wasmload-name" in echoed), "the name header is not sent");
    },
    async redirectsFollowHoldOrFail() {
      const followed = await fetch("/redirect/2");
      expect(followed.status === 200 && followed.redirected && followed.url.endsWith("/"), `followed to ${followed.url}`);
      const held = await fetch("/redirect/2", { redirect: "manual" });
      expect(held.status === 302 && held.headers.get("location") === "/redirect/1", `held ${held.status}`);
      const refused = await rejection(fetch("/redirect/2", { redirect: "error" }), "redirect: error");
      expect(refused instanceof TypeError && refused.message === "fetch failed", `${refused}`);
    },
    async statusesAreAnswersNotErrors() {
      const missing = await fetch("/items/5000");
      expect(missing.status === 404 && !missing.ok && missing.statusText === "Not Found", `${missing.status}`);
      expect((await rejection(missing.json(), "a body that is not JSON")) instanceof SyntaxError, "SyntaxError");
      expect(missing.bodyUsed && (await rejection(missing.text(), "a second read")) instanceof TypeError, "read once");
    },
    async timeoutsAndRefusalsReject() {
      const late = await rejection(fetch("/slow/3000", { signal: AbortSignal.timeout(200) }), "a timeout");
      expect(late.name === "TimeoutError", `timeout: ${late}`);
      const refused = await rejection(fetch(context.param("REFUSED_URL")), "a refused connection");
      expect(refused instanceof TypeError && refused.cause.message.startsWith("connect"), `refused: ${refused.cause}`);
      const aborted = new AbortController();
      aborted.abort();
      expect((await rejection(fetch("/me", { signal: aborted.signal }), "an aborted signal")).name === "AbortError", "abort");
    },
    async promisesRunAsMicrotasksAndTimersAfter() {
      const order = [];
      setTimeout(() => order.push("timer"), 0);
      queueMicrotask(() => order.push("microtask"));
      Promise.resolve().then(() => order.push("then"));
      order.push("sync");
      const started = context.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(order.join() === "sync,microtask,then,timer", `order ${order}`);
      let turns = 0;
      await new Promise((resolve) => {
        const every = setInterval(() => ++turns === 3 && (clearInterval(every), resolve()), 5);
      });
      expect(turns === 3, "an interval until cleared");
      expect(context.now() - started >= 0.05, "a timer waits its time");
      const [all, settled, race, any] = [
        await Promise.all([1, Promise.resolve(2), fetch("/items").then((answer) => answer.status)]),
        await Promise.allSettled([Promise.reject(new Error("no")), 3]),
        await Promise.race([new Promise((resolve) => setTimeout(() => resolve("slow"), 20)), "fast"]),
        await Promise.any([Promise.reject(new Error("no")), Promise.resolve("yes")]),
      ];
      expect(all.join() === "1,2,200" && settled[0].status === "rejected" && settled[1].value === 3, "all, allSettled");
      expect(race === "fast" && any === "yes", "race, any");
      async function* countdown() {
        for (let i = 3; i > 0; i--) yield await Promise.resolve(i);
      }
      const counted = [];
      for await (const i of countdown()) counted.push(i);
      expect(counted.join() === "3,2,1", "for await");
    },
    async bodiesAndHeaders() {
      const form = new FormData();
      form.append("count", 3);
      form.append("report", new Blob(["a,b\n1,2\n"], { type: "text/csv" }), "report.csv");
      const upload = new Request("/bytes/0", { method: "POST", body: form });
      expect(upload.headers.get("content-type").startsWith("multipart/form-data; boundary="), "multipart type");
      const sent = await upload.clone().text();
      expect(sent.includes('name="count"\r\n\r\n3\r\n') && sent.includes('filename="report.csv"\r\nContent-Type: text/csv'), "multipart body");
      expect((await fetch(upload)).status === 200, "multipart sent");
      const query = new URLSearchParams({ a: "1 2" });
      query.append("b", "&");
      expect(query.toString() === "a=1+2&b=%26" && new URLSearchParams("?a=1+2&b=%26").get("a") === "1 2", "URLSearchParams");
      const posted = await fetch("/bytes/3", { method: "POST", body: query });
      expect((await posted.clone().arrayBuffer()).byteLength === 3 && (await posted.bytes()).length === 3, "bytes body");
      expect(Object.keys(posted).length === 0 && new Request("/me", { ...upload }).method === "GET", "fields are not own properties");
      const headers = new Headers([["Set-Cookie", "a=1"], ["set-cookie", "b=2"], ["X-A", "1"], ["x-a", "2"]]);
      expect(headers.get("x-a") === "1, 2" && headers.getSetCookie().join() === "a=1,b=2", "headers combine");
      const made = Response.json({ ok: true }, { status: 201 });
      expect(made.status === 201 && made.headers.get("content-type") === "application/json", "Response.json");
      expect((await made.clone().json()).ok && new TextDecoder().decode(new TextEncoder().encode("é")) === "é", "clone, text codecs");
    },
  },
});
