"""A dashboard's user of Prometheus's HTTP API, written with uplink (PyPI),
a declarative client built on `requests`, used unchanged: the SDK's
`requests` sends its calls through the user's session, so each one is an
event named by its path with no code for it here.

`--host` is Prometheus (`http://127.0.0.1:9090`). A query Prometheus
refuses (400) is one task in five: `raise_for_status` turns it into an
error the task reports, and its event is a failure.
"""

from uplink import Consumer, Field, Query, form_url_encoded, get, post, response_handler, returns

from wasmload import User, context, task, users


def raise_for_status(response):
    """Every answer must be a success (requests' own check)."""
    response.raise_for_status()
    return response


@response_handler(raise_for_status)
class PrometheusApi(Consumer):
    """The parts of https://prometheus.io/docs/prometheus/latest/querying/api/ used here."""

    @returns.json
    @get("api/v1/query")
    def query(self, query: Query("query")):
        """An instant query, its PromQL in the URL."""

    @returns.json
    @form_url_encoded
    @post("api/v1/query")
    def query_form(self, query: Field("query")):
        """An instant query, its PromQL in a form body (long queries)."""

    @returns.json
    @get("api/v1/labels")
    def labels(self):
        """Every label name."""


class Dashboard(User):
    def on_start(self):
        self.api = PrometheusApi(base_url=context.host_url())

    @task(2)
    def panel(self):
        answer = self.api.query("up")
        assert answer["status"] == "success", answer

    @task
    def long_panel(self):
        answer = self.api.query_form("sum by (job) (rate(prometheus_http_requests_total[1m]))")
        assert answer["status"] == "success", answer

    @task
    def label_picker(self):
        labels = self.api.labels()
        assert labels["status"] == "success" and isinstance(labels["data"], list), labels

    @task
    def typo(self):
        self.api.query("sum(")


Behaviour = users(Dashboard)
