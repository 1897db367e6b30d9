// A dashboard's user of Prometheus's HTTP API, written with ofetch (npm), a
// client built on the standard `fetch`, used unchanged: the SDK's `fetch`
// sends its calls through the user's session, so each one is an event
// with no code for it here. The tasks are `async` functions awaiting it.
//
// `--host` is Prometheus (`http://127.0.0.1:9090`). A query Prometheus
// refuses (400) is one task in five: ofetch rejects it with its FetchError,
// which the task reports, and its event is a failure.
import { ofetch } from "ofetch";
import { context, users } from "wasmload";

/** The parts of https://prometheus.io/docs/prometheus/latest/querying/api/ used here. */
const prometheus = () => {
  const api = ofetch.create({ baseURL: context.host() });
  return {
    /** An instant query, its PromQL in the URL. */
    query: (promql) => api("/api/v1/query", { query: { query: promql } }),
    /** An instant query, its PromQL in a form body (long queries). */
    queryForm: (promql) => api("/api/v1/query", { method: "POST", body: new URLSearchParams({ query: promql }) }),
    /** Every label name. */
    labels: () => api("/api/v1/labels"),
  };
};

function expectSuccess(answer) {
  if (answer.status !== "success") throw new Error(`unexpected answer: ${JSON.stringify(answer)}`);
  return answer;
}

export const behaviour = users({
  name: "dashboard",
  onStart() {
    this.api = prometheus();
  },
  tasks: {
    panel: {
      weight: 2,
      async run() {
        expectSuccess(await this.api.query("up"));
      },
    },
    async longPanel() {
      expectSuccess(await this.api.queryForm("sum by (job) (rate(prometheus_http_requests_total[1m]))"));
    },
    async labelPicker() {
      const labels = expectSuccess(await this.api.labels());
      if (!Array.isArray(labels.data)) throw new Error("labels are not a list");
    },
    async typo() {
      await this.api.query("sum(");
    },
  },
});
