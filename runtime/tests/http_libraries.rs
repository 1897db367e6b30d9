//! Unchanged HTTP libraries inside users: Python code written for
//! `requests` (here PyPI's uplink, as published) runs on the SDK's
//! `requests`, JavaScript written for `fetch` (npm's ofetch) on the SDK's
//! `fetch`, and every call they make is an event, counted as the real
//! server counted it.

use std::path::Path;

use wasmload_testkit::{example, run_component, test_guest, Outcome, Prometheus, TargetServer};

fn load(component: &Path, host: &str, flags: &str) -> Outcome {
    run_component(Path::new(env!("CARGO_BIN_EXE_wasmload")), component, host, flags)
}

/// Task errors by task name, as the summary lists them.
fn task_errors(run: &Outcome) -> Vec<(String, String, u64)> {
    let errors = run.summary()["task_errors"].as_array().expect("task_errors");
    errors
        .iter()
        .map(|error| {
            let field = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
            (field("task"), field("error"), error["occurrences"].as_u64().unwrap_or(0))
        })
        .collect()
}

#[test]
fn uplink_on_the_sdks_requests_is_counted_as_prometheus_counted_it() {
    // raise_for_status's HTTPError reaches the task, worded as requests words it.
    dashboard_matches_prometheus("python", |query| {
        format!("HTTPError: 400 Client Error: Bad Request for url: {query}?query=sum%28")
    });
}

#[test]
fn ofetch_on_the_sdks_fetch_is_counted_as_prometheus_counted_it() {
    // ofetch's FetchError reaches the task through the awaits, as ofetch words it.
    dashboard_matches_prometheus("js", |query| {
        format!("FetchError: [GET] \"{query}?query=sum(\": 400 Bad Request")
    });
}

/// The `prometheus-api` example in `language` (a dashboard on an unchanged
/// HTTP library) made exactly the calls Prometheus counted; its refused
/// queries failed the `typo` task with `error(query URL)`.
fn dashboard_matches_prometheus(language: &str, error: impl Fn(&str) -> String) {
    let prometheus = Prometheus::start();
    let component = example(language, "prometheus-api");
    let run = load(&component, &prometheus.url, "-u 3 -i 60 --seed 3");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let url = |path: &str| format!("{}{path}", prometheus.url);
    let query = url("/api/v1/query");
    let (gets, posts) = (run.count("GET", &query), run.count("POST", &query));
    let labels = run.count("GET", &url("/api/v1/labels"));
    // Every task made one call, so the events add up to the iterations...
    assert_eq!(gets + posts + labels, 60, "{}", run.stderr);
    assert!(posts > 0 && labels > 0);
    // ...and Prometheus answered exactly those: the refused queries (the
    // `typo` task's) with 400, recorded as failures, the rest with 200.
    let refused = run.failures("GET", &query);
    assert!(refused > 0);
    assert_eq!(prometheus.requests_served("/api/v1/query", 400), refused);
    assert_eq!(prometheus.requests_served("/api/v1/query", 200), gets - refused + posts);
    assert_eq!(prometheus.requests_served("/api/v1/labels", 200), labels);
    assert_eq!(run.failures("POST", &query) + run.failures("GET", &url("/api/v1/labels")), 0);
    let errors = task_errors(&run);
    assert_eq!(errors, vec![("typo".to_owned(), error(&query), refused)], "{}", run.stderr);
}

/// A run of the checks guest `language/name` (two users, `iterations`)
/// against the test target, with `-e REFUSED_URL=` a URL where nothing
/// listens: no check failed, and both users logged in once and sent their
/// cookie back on every `/me`. Returns the target, the run and that URL.
fn checks_run(language: &str, name: &str, iterations: u64) -> (TargetServer, Outcome, String) {
    let target = TargetServer::start();
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_url = format!("http://{}/refused", refused.local_addr().unwrap());
    drop(refused);
    let flags = format!("-u 2 -i {iterations} --seed 4 -e REFUSED_URL={refused_url}");
    let run = load(&test_guest(language, name), &target.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(task_errors(&run), vec![], "{}", run.stderr);
    assert_eq!(target.logins(), 2);
    assert_eq!(target.sessions_on_me(), 2);
    (target, run, refused_url)
}

#[test]
fn the_sdks_requests_behaves_as_requests_does() {
    let (target, run, refused_url) = checks_run("python", "requests-checks", 60);
    for (method, path) in
        [("POST", "/login"), ("GET", "/me"), ("GET", "/items"), ("GET", "/headers")]
    {
        assert_eq!(run.count(method, path), target.count(method, path), "{method} {path}");
    }
    // A followed redirect is one event; a held one is another.
    let redirects = run.count("GET", "/redirect/2");
    assert!(redirects > 0);
    assert_eq!(target.count("GET", "/redirect/2"), redirects);
    assert_eq!(target.count("GET", "/redirect/0"), redirects / 2);
    // Two 404s per check, both failures; timeouts are failures, and every
    // refused connection was tried three times (two retries).
    let missing = run.failures("GET", "/items/5000");
    assert!(missing > 0);
    assert_eq!(target.count("GET", "/items/5000"), missing);
    let timeouts = run.failures("GET", "/slow/3000");
    assert!(timeouts > 0);
    assert_eq!(run.failures("GET", &refused_url), 3 * timeouts, "{}", run.stderr);
}

#[test]
fn the_sdks_fetch_behaves_as_fetch_does() {
    let (target, run, refused_url) = checks_run("js", "fetch-checks", 70);
    for (method, path) in [("POST", "/login"), ("GET", "/me"), ("GET", "/items")] {
        assert_eq!(run.count(method, path), target.count(method, path), "{method} {path}");
    }
    // The name header named the event, and was not sent.
    assert!(run.count("GET", "echo") > 0);
    assert_eq!(run.count("GET", "echo"), target.count("GET", "/headers"));
    // Followed, held and refused redirects: three events, one followed.
    let redirects = run.count("GET", "/redirect/2");
    assert!(redirects > 0);
    assert_eq!(target.count("GET", "/redirect/2"), redirects);
    assert_eq!(target.count("GET", "/redirect/0"), redirects / 3);
    // A 404 is a failed event but an answer; a timeout and a refused
    // connection are failures too; an aborted signal sends nothing.
    let missing = run.failures("GET", "/items/5000");
    assert!(missing > 0);
    assert_eq!(target.count("GET", "/items/5000"), missing);
    let timeouts = run.failures("GET", "/slow/3000");
    assert!(timeouts > 0);
    assert_eq!(run.failures("GET", &refused_url), timeouts, "{}", run.stderr);
    assert_eq!(run.count("POST", "/bytes/0"), target.count("POST", "/bytes/0"));
}
