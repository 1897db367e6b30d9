//! gRPC end to end against a tonic server.

use std::path::Path;

use wasmload_testkit::checks::{self, SAY_HELLO};
use wasmload_testkit::{run_guest, GrpcServer, Outcome};

fn load(guest: &str, host: &str, flags: &str) -> Outcome {
    run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), guest, host, flags)
}

#[test]
fn say_hello_calls_match_what_the_server_received() {
    let server = GrpcServer::start();
    let run = load("grpc-hello", &server.url(), "-u 4 -i 200");
    checks::assert_greeter_run(&run, &server, 200);
}

#[test]
fn statuses_streams_and_dead_endpoints() {
    let server = GrpcServer::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let run = load(
        "grpc-checks",
        &server.url(),
        &format!("-i 40 --allow-host 127.0.0.1 -e DEAD={dead_url}"),
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // Each step saw the outcome it expected.
    assert!(run.summary()["task_errors"].as_array().unwrap().is_empty(), "{}", run.stdout);
    let stream = "/helloworld.Greeter/SayHelloStream";
    assert_eq!((run.count("grpc", stream), run.failures("grpc", stream)), (10, 0));
    assert_eq!(server.calls(stream), 10);
    // Refused (10) and dead endpoint (10) calls of SayHello all failed.
    assert_eq!((run.count("grpc", SAY_HELLO), run.failures("grpc", SAY_HELLO)), (20, 20));
    let goodbye = "/helloworld.Greeter/SayGoodbye";
    assert_eq!((run.count("grpc", goodbye), run.failures("grpc", goodbye)), (10, 10));
    let errors = run.summary()["errors"].as_array().unwrap().clone();
    let texts: Vec<&str> = errors.iter().map(|e| e["error"].as_str().unwrap()).collect();
    for expected in ["InvalidArgument: name is empty", "Unimplemented:", "Unavailable:"] {
        assert!(texts.iter().any(|t| t.starts_with(expected)), "no {expected:?} in {texts:?}");
    }
}
