"""Checks of the SDK's `requests` against the test target (tests/src/target.rs),
one task per behaviour; a check that fails is a task error naming it.

`-e REFUSED_URL=...` is a URL where nothing listens.
"""

import requests
from requests.adapters import HTTPAdapter

from wasmload import User, context, task, users


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


class Checks(User):
    def on_start(self):
        self.session = requests.Session()
        self.session.headers.update({"X-Suite": "requests-checks"})
        login = self.session.post("/login", json={"username": "u", "password": "p"})
        login.raise_for_status()
        expect("session" in login.cookies, f"login set no cookie: {login.headers}")
        expect(self.session.cookies.get("session") == login.cookies["session"], "session jar")
        expect(login.json()["token"], "a token")

    @task
    def cookie_is_sent_back(self):
        # The host's jar sends the cookie; the guest adds nothing.
        me = self.session.get("/me")
        expect(me.status_code == 200 and me.ok, f"/me answered {me.status_code}")

    @task
    def json_params_and_headers(self):
        items = requests.get("/items", params={"page": 2, "skip": None}, timeout=5)
        expect(items.json() == [{"id": 1}, {"id": 2}, {"id": 3}], items.text)
        expect(items.headers["Content-Length"] == items.headers["content-length"] == "28", "case")
        echoed = self.session.get("/headers", headers={"Accept": "text/plain"}).json()
        expect(echoed["accept"] == "text/plain", f"accept sent: {echoed}")
        posted = requests.post("/bytes/3", data={"a": "1", "b": ["2", "3"]})
        expect(len(posted.content) == 3, "bytes body")
        expect(posted.request.body == b"a=1&b=2&b=3", f"form body {posted.request.body!r}")

    @task
    def redirects_are_followed_unless_asked(self):
        followed = self.session.get("/redirect/2")
        expect(followed.status_code == 200 and followed.url.endswith("/"), followed.url)
        held = self.session.get("/redirect/2", allow_redirects=False)
        expect(held.status_code == 302 and held.is_redirect, f"held {held.status_code}")
        expect(held.headers["location"] == "/redirect/1", held.headers.get("location"))

    @task
    def statuses_raise_only_when_asked(self):
        missing = self.session.get("/items/5000")
        expect(missing.status_code == 404 and not missing.ok, f"{missing.status_code}")
        try:
            missing.raise_for_status()
        except requests.HTTPError as error:
            expect(error.response is missing, "the error carries the response")
            expect(str(error).startswith("404 Client Error: Not Found for url: "), str(error))
        else:
            raise AssertionError("raise_for_status let a 404 pass")
        try:
            self.session.get("/items/5000").json()
        except requests.JSONDecodeError:
            pass
        else:
            raise AssertionError("a body that is not JSON parsed")

    @task
    def timeouts_and_refusals_raise(self):
        try:
            self.session.get("/slow/3000", timeout=0.2)
        except requests.Timeout:
            pass
        else:
            raise AssertionError("no timeout")
        retried = requests.Session()
        retried.mount("http://", HTTPAdapter(max_retries=2))
        try:
            retried.get(context.param("REFUSED_URL"), timeout=2)
        except requests.ConnectionError:
            pass
        else:
            raise AssertionError("a refused connection did not raise")

    @task
    def auth_and_files(self):
        sent = self.session.post(
            "/bytes/0",
            auth=("ada", "secret"),
            headers={b"X-Token": "t"},
            data={"count": 3},
            files={"report": ("report.csv", b"a,b\n1,2\n", "text/csv"), "skipped": None},
        )
        expect(sent.request.headers["x-token"] == "t", "a bytes header name")
        expect(b'name="count"\r\n\r\n3\r\n' in sent.request.body, "a number in a form")
        expect(b"skipped" not in sent.request.body, "a None file is left out")
        pairs = requests.post("/bytes/0", data=(("a", "1"), ("b", b"\xff")))
        expect(pairs.request.body == b"a=1&b=%FF", f"tuple form {pairs.request.body!r}")
        expect(sent.request.headers["Authorization"] == "Basic YWRhOnNlY3JldA==", "basic auth")
        body = sent.request.body
        expect(b'filename="report.csv"' in body and b"a,b\n1,2\n" in body, "multipart body")
        expect(sent.request.headers["Content-Type"].startswith("multipart/form-data"), "type")


Behaviour = users(Checks)
