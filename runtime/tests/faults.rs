//! Targets that misbehave: every fault is a failed event with a stable,
//! readable error, and the run goes on.

use std::path::Path;

use wasmload_testkit::{run_guest, FaultyServer, Outcome};

fn hammer(host: &str, path: &str, flags: &str) -> Outcome {
    let flags = format!("-i 3 -e PATH={path} {flags}");
    let run = run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), "http-hammer", host, &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!((run.count("GET", path), run.failures("GET", path)), (3, 3), "{}", run.stdout);
    run
}

fn error_of(run: &Outcome) -> String {
    let errors = run.summary()["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 1, "one error group expected: {errors:?}");
    errors[0]["error"].as_str().unwrap().to_owned()
}

#[test]
fn a_reset_mid_response_is_a_transport_failure() {
    let server = FaultyServer::start();
    let error = error_of(&hammer(&server.url(), "/reset", ""));
    assert!(error.starts_with("transport:"), "{error}");
}

#[test]
fn a_non_http_answer_is_a_transport_failure() {
    let server = FaultyServer::start();
    let error = error_of(&hammer(&server.url(), "/garbage", ""));
    assert!(error.starts_with("transport:") && error.contains("invalid HTTP"), "{error}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = FaultyServer::start();
    assert_eq!(error_of(&hammer(&server.url(), "/silent", "--timeout 200ms")), "timeout");
}

#[test]
fn a_body_over_max_body_fails() {
    let server = FaultyServer::start();
    let error = error_of(&hammer(&server.url(), "/huge", "--max-body 1MiB"));
    assert_eq!(error, "transport: response body larger than 1048576 bytes (--max-body)");
}

#[test]
fn a_name_that_does_not_resolve_is_a_connect_failure() {
    let error = error_of(&hammer("http://no-such-host.invalid", "/", ""));
    assert!(error.starts_with("connect:") && error.contains("no-such-host.invalid"), "{error}");
}
