//! The plain-text HTTP/1.1 exchange (runtime/src/protocols/http/http1.rs)
//! against Python's `http.server` answering in each way the exchange must
//! read right: every answer read whole and in step, every connection that
//! cannot be used again replaced, counted as the server counted them.

use std::path::Path;

use wasmload_testkit::{run_guest, EdgeServer};

#[test]
fn every_framing_is_read_right_and_spent_connections_are_replaced() {
    let server = EdgeServer::start();
    let run = run_guest(
        Path::new(env!("CARGO_BIN_EXE_wasmload")),
        "http1-edges",
        &server.url(),
        "-u 2 -i 160 --seed 7",
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.summary()["task_errors"], serde_json::json!([]), "{}", run.stderr);
    let counts = server.counts();
    let served = |request: &str| counts["served"][request].as_u64().unwrap_or(0);
    // Every request was one event, and the server answered each.
    for (method, path) in [
        ("GET", "/chunked"),
        ("POST", "/continue"),
        ("HEAD", "/length"),
        ("GET", "/length"),
        ("GET", "/close"),
        ("GET", "/until-close"),
        ("GET", "/extra"),
        ("GET", "/cut"),
        ("GET", "/huge-head"),
    ] {
        assert!(served(&format!("{method} {path}")) > 0, "{method} {path} never ran");
        assert_eq!(run.count(method, path), served(&format!("{method} {path}")), "{method} {path}");
    }
    // A body cut short and a head over 64 KiB are failures; nothing else is.
    assert_eq!(run.failures("GET", "/cut"), served("GET /cut"));
    assert_eq!(run.failures("GET", "/huge-head"), served("GET /huge-head"));
    assert_eq!(
        run.summary()["totals"]["failures"].as_u64(),
        Some(served("GET /cut") + served("GET /huge-head"))
    );
    // After each answer that spends its connection, the next request (the
    // task's `/length`) opened a new one; every other answer kept it.
    let spent = ["/close", "/until-close", "/extra", "/cut", "/huge-head"]
        .map(|path| served(&format!("GET {path}")));
    assert_eq!(counts["connections"]["/length"].as_u64(), Some(spent.iter().sum()), "{counts}");
    let opened: u64 =
        counts["connections"].as_object().unwrap().values().filter_map(|n| n.as_u64()).sum();
    assert_eq!(opened, 2 + spent.iter().sum::<u64>(), "{counts}");
}
