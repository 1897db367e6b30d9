//! XML-RPC end to end against Python's standard `SimpleXMLRPCServer`.

use std::path::Path;

use wasmload_testkit::{checks, run_guest, Outcome, TargetServer, XmlRpcServer};

fn load(guest: &str, host: &str, flags: &str) -> Outcome {
    run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), guest, host, flags)
}

#[test]
fn calls_match_what_the_server_served_and_values_round_trip() {
    let server = XmlRpcServer::start();
    let run = load("xmlrpc-calc", &server.url(), "-u 4 -i 120");
    checks::assert_calculator_run(&run, &server, 120);
}

#[test]
fn faults_and_malformed_answers_are_failures_with_typed_errors() {
    let server = XmlRpcServer::start();
    let garbage = TargetServer::start();
    let flags = format!("-i 30 --allow-host 127.0.0.1 -e GARBAGE={}/xmlrpc/garbage", garbage.url());
    let run = load("xmlrpc-faults", &server.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // The guest saw the error it expected at every step.
    assert!(run.summary()["task_errors"].as_array().unwrap().is_empty(), "{}", run.stdout);
    assert_eq!((run.count("xmlrpc", "nope"), run.failures("xmlrpc", "nope")), (10, 10));
    assert_eq!((run.count("xmlrpc", "add"), run.failures("xmlrpc", "add")), (20, 20));
    let errors = run.summary()["errors"].as_array().unwrap().clone();
    let texts: Vec<&str> = errors.iter().map(|e| e["error"].as_str().unwrap()).collect();
    assert!(
        texts.iter().any(|t| t.starts_with("fault 1:") && t.contains("not supported")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.starts_with("malformed response:")), "{texts:?}");
}
