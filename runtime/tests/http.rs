//! HTTP end to end: guests built from source, run by the `wasmload` binary
//! against a local hyper server that counts what it answers.

use std::path::Path;

use wasmload_testkit::{checks, run_guest, Outcome, TargetServer};

fn load(guest: &str, host: &str, flags: &str) -> Outcome {
    run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), guest, host, flags)
}

#[test]
fn records_every_request_the_server_saw() {
    let server = TargetServer::start();
    let run = load("http-basic", &server.url(), "-u 10 -i 300 -e WAIT_MS=0-5");
    checks::assert_shopper_run(&run, &server, 10, 300);
}

#[test]
fn responses_are_judged_like_catch_response() {
    let server = TargetServer::start();
    let run = load("checks", &server.url(), "-i 50");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);

    // Marked failure (a later success() does not undo it).
    assert_eq!((run.count("GET", "/a"), run.failures("GET", "/a")), (10, 10));
    // Marked success despite a 404.
    assert_eq!((run.count("GET", "/status/404"), run.failures("GET", "/status/404")), (10, 0));
    // Unjudged 500: a failure by status.
    assert_eq!(run.failures("GET", "/status/500"), 10);
    // Redirects followed to the end, recorded once under the first URL.
    assert_eq!((run.count("GET", "/redirect/3"), run.failures("GET", "/redirect/3")), (10, 0));
    assert_eq!(server.count("GET", "/redirect/0"), 10);
    assert_eq!(server.count("GET", "/"), 10);
    // The default name drops the query.
    assert_eq!(run.count("GET", "/b"), 10);

    let errors = run.summary()["errors"].as_array().unwrap().clone();
    let error_of = |name: &str| {
        let row = errors.iter().find(|e| e["name"] == name)?;
        Some((row["error"].as_str()?.to_owned(), row["occurrences"].as_u64()?))
    };
    assert_eq!(error_of("/a"), Some(("custom reason".into(), 10)));
    assert_eq!(error_of("/status/500"), Some(("HTTP 500 Internal Server Error".into(), 10)));
}

#[test]
fn cookies_are_kept_per_user_and_not_shared() {
    let server = TargetServer::start();
    let run = load("cookies", &server.url(), "-u 8 -i 80");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(server.logins(), 8);
    // Every `/me` carried its own user's session cookie.
    assert_eq!((run.count("GET", "/me"), run.failures("GET", "/me")), (80, 0));
    assert_eq!(server.sessions_on_me(), 8);
    // Each user's on_stop logged out once.
    assert_eq!(run.count("POST", "/logout"), 8);
    assert_eq!(server.count("POST", "/logout"), 8);
}

#[test]
fn each_user_keeps_its_connection_alive_unless_asked_to_close() {
    let server = TargetServer::start();
    let kept = load("http-hammer", &server.url(), "-u 3 -i 60 -e WAIT_MS=5");
    assert_eq!(kept.code, Some(0), "stderr: {}", kept.stderr);
    assert_eq!(server.count("GET", "/"), 60);
    assert_eq!(server.connections(), 3);

    let closing = load("http-hammer", &server.url(), "-u 3 -i 30 -e WAIT_MS=5 -e CLOSE=1");
    assert_eq!((closing.count("GET", "/"), closing.failures("GET", "/")), (30, 0));
    assert_eq!(server.connections(), 3 + 30);
}

#[test]
fn tls_targets_are_served_over_http2_when_offered() {
    let server = TargetServer::start_tls();
    let ca = std::env::temp_dir().join(format!("wasmload-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, server.certificate_pem().unwrap()).unwrap();
    let trusting = format!("-u 3 -i 30 --ca-cert {}", ca.display());
    let run = load("http-hammer", &server.url(), &trusting);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!((run.count("GET", "/"), run.failures("GET", "/")), (30, 0));
    assert_eq!(server.count("GET", "/"), 30);
    assert_eq!(server.http2_requests(), 30);
    assert_eq!(server.connections(), 3);

    // Without trusting the certificate, every request fails to connect.
    let untrusted = load("http-hammer", &server.url(), "-i 3");
    assert_eq!(untrusted.code, Some(0), "stderr: {}", untrusted.stderr);
    assert_eq!(untrusted.failures("GET", "/"), 3);
    assert_eq!(server.count("GET", "/"), 30);
    let error = untrusted.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("connect:") && error.contains("certificate"), "{error}");
}

#[test]
fn insecure_takes_a_certificate_nobody_trusts_and_says_so_once() {
    let server = TargetServer::start_tls();
    // k6's name for the flag works too.
    for flag in ["--insecure", "--insecure-skip-tls-verify"] {
        let insecure = load("http-hammer", &server.url(), &format!("-i 3 {flag}"));
        assert_eq!(insecure.code, Some(0), "stderr: {}", insecure.stderr);
        assert_eq!((insecure.count("GET", "/"), insecure.failures("GET", "/")), (3, 0));
        let warnings = insecure.stderr.matches("TLS certificates are not verified").count();
        assert_eq!(warnings, 1, "{}", insecure.stderr);
    }
    assert_eq!(server.count("GET", "/"), 6);
}

#[test]
fn an_unreachable_target_is_a_failure_not_a_crash() {
    // Bind and drop a listener to get a loopback port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let run = load("http-hammer", &host, "-u 2 -i 20");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!((run.count("GET", "/"), run.failures("GET", "/")), (20, 20));
    let error = run.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("connect:"), "{error}");
}

#[test]
fn response_times_include_the_servers_delay() {
    let server = TargetServer::start();
    let run = load("http-hammer", &server.url(), "-u 2 -i 4 -e PATH=/slow/300");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let row = run.row("GET", "/slow/300").expect("a row for /slow/300");
    for percentile in ["p50_ms", "p99_ms", "max_ms", "avg_ms"] {
        let ms = row[percentile].as_f64().unwrap();
        assert!(ms >= 299.0, "{percentile} = {ms} ms");
    }
}

#[test]
fn more_than_ten_redirects_fail() {
    let server = TargetServer::start();
    let ten = load("http-hammer", &server.url(), "-i 2 -e PATH=/redirect/9");
    assert_eq!(ten.failures("GET", "/redirect/9"), 0, "{}", ten.stdout);
    let eleven = load("http-hammer", &server.url(), "-i 2 -e PATH=/redirect/10");
    assert_eq!(eleven.code, Some(0), "stderr: {}", eleven.stderr);
    assert_eq!(eleven.failures("GET", "/redirect/10"), 2);
    assert_eq!(eleven.summary()["errors"][0]["error"], "too many redirects");
}

#[test]
fn a_request_over_its_timeout_fails_with_timeout() {
    let server = TargetServer::start();
    let run = load("http-hammer", &server.url(), "-i 3 --timeout 100ms -e PATH=/slow/2000");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!((run.count("GET", "/slow/2000"), run.failures("GET", "/slow/2000")), (3, 3));
    assert_eq!(run.summary()["errors"][0]["error"], "timeout");
}

#[test]
fn rest_helper_parses_json_and_turns_errors_into_failures() {
    let server = TargetServer::start();
    let run = load("rest-checks", &server.url(), "-i 50");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // No step's error escaped as a task error.
    assert!(run.summary()["task_errors"].as_array().unwrap().is_empty(), "{}", run.stdout);
    assert_eq!((run.count("GET", "/"), run.failures("GET", "/")), (10, 10));
    assert_eq!((run.count("GET", "/items/10"), run.failures("GET", "/items/10")), (10, 10));
    assert_eq!(run.failures("GET", "/items/3"), 0);
    assert_eq!(run.failures("GET", "/headers"), 0);
    assert_eq!(run.failures("POST", "/login"), 0);
    let errors = run.summary()["errors"].as_array().unwrap().clone();
    let error_of = |name: &str| {
        errors.iter().find(|e| e["name"] == name).map(|e| e["error"].as_str().unwrap().to_owned())
    };
    assert!(error_of("/").unwrap().starts_with("invalid JSON"), "{errors:?}");
    assert_eq!(error_of("/items/10").unwrap(), "out of stock");
}

#[test]
fn rest_api_example_checks_every_item_it_views() {
    let server = TargetServer::start();
    let run = load("rest-api", &server.url(), "-u 5 -i 200");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.count("POST", "/login"), 5);
    assert_eq!(run.count("GET", "/items") + run.count("GET", "/items/[id]"), 200);
    let out_of_stock: u64 = server
        .counts()
        .iter()
        .filter(|((_, path), _)| {
            path.strip_prefix("/items/")
                .and_then(|id| id.parse::<u64>().ok())
                .is_some_and(|id| id % 10 == 0)
        })
        .map(|(_, count)| count)
        .sum();
    assert_eq!(run.failures("GET", "/items/[id]"), out_of_stock);
    assert_eq!(run.failures("GET", "/items"), 0);
}

#[test]
fn an_unchanged_http_library_over_wasi_http_is_recorded_in_the_session() {
    let server = TargetServer::start();
    let run = load("wasi-http-client", &server.url(), "-u 3 -i 90");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let (home, items) = (run.count("GET", "/"), run.count("GET", "/items/[id]"));
    assert_eq!(home + items, 90);
    assert_eq!(server.count("GET", "/"), home);
    let served_items: u64 = server
        .counts()
        .iter()
        .filter(|((_, path), _)| path.starts_with("/items/"))
        .map(|(_, count)| count)
        .sum();
    assert_eq!(served_items, items);
    assert_eq!(run.summary()["totals"]["failures"], 0);
    assert!(run.summary()["task_errors"].as_array().unwrap().is_empty(), "{}", run.stdout);
}

#[test]
fn wasi_http_requests_to_a_dead_port_are_failed_events() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let run = load("wasi-http-client", &host, "-i 6 --seed 3");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let requests = run.summary()["totals"]["requests"].as_u64().unwrap();
    assert_eq!(requests, 6);
    assert_eq!(run.summary()["totals"]["failures"], 6);
    let error = run.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("connect:"), "{error}");
    // The library saw an error too, and the task reported it.
    assert!(!run.summary()["task_errors"].as_array().unwrap().is_empty());
}
