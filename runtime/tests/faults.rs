//! Targets that misbehave: every fault is a failed event with a stable,
//! readable error, and the run goes on.

use std::path::Path;

use wasmload_testkit::{guest, run_guest, FaultyServer, Outcome};

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

/// A request its user no longer waits for ends with it, though it runs on a
/// task of its own (see `Session::send`): a run stopped while requests hang
/// closes their connections. In this process, whose exit cannot be what
/// closes them.
#[test]
fn a_request_cut_off_by_the_stop_closes_its_connection() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use wasmload::engine::UserComponent;
    use wasmload::run::{self, RunLog, RunSetting, RunSpec, Segment};

    let server = FaultyServer::start();
    let options = serde_json::json!({
        "users": 3, "run-time": "1s", "stop-timeout": "0s", "host": server.url(),
        "param": {"PATH": "/silent"},
    });
    let spec = RunSpec::from_options(options.as_object().unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let component =
            UserComponent::load_file(&guest("http-hammer"), 4, spec.guest.max_memory, None)
                .unwrap();
        let setting = RunSetting {
            name: "http-hammer".to_owned(),
            log: RunLog::kept(1 << 16),
            ca_files: Vec::new(),
            trust_host_addresses: true,
            segment: Segment::WHOLE,
            local_ips: Default::default(),
        };
        let prepared = run::prepare(Arc::new(component), spec, setting).await.unwrap();
        let summary = prepared.start().finish().await.unwrap().summary;
        assert_eq!((summary.users, summary.totals.requests), (3, 0));
        // The runtime, and any task left behind, lives on.
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.silent_closed() < 3 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(server.silent_closed(), 3, "connections left open after the stop");
    });
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
