//! What a run of each example must show, whatever language it is written
//! in: exact counts, checked against what the servers saw.

use crate::{EchoServers, GrpcServer, Outcome, TargetServer, XmlRpcServer};

/// `http-basic` with `users` users and `iterations` iterations: every
/// request the server saw, one login per user, out-of-stock items failed.
pub fn assert_shopper_run(run: &Outcome, server: &TargetServer, users: u64, iterations: u64) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // Each task sends one request, each user logs in once.
    assert_eq!(run.summary()["totals"]["requests"], users + iterations);
    assert_eq!(run.count("POST", "/login"), users);
    assert_eq!(server.logins(), users);

    let served = server.counts();
    let served_where = |keep: &dyn Fn(&str) -> bool| -> u64 {
        served
            .iter()
            .filter(|((method, path), _)| method == "GET" && keep(path))
            .map(|(_, count)| count)
            .sum()
    };
    assert_eq!(run.count("GET", "/items"), server.count("GET", "/items"));
    assert_eq!(run.count("GET", "/items/[id]"), served_where(&|p| p.starts_with("/items/")));
    assert_eq!(run.count("GET", "/cart"), server.count("GET", "/cart"));
    assert_eq!(served.values().sum::<u64>(), users + iterations);

    // The example marks out-of-stock items (every tenth id) as failures.
    let out_of_stock = served_where(&|path| {
        path.strip_prefix("/items/")
            .and_then(|id| id.parse::<u64>().ok())
            .is_some_and(|id| id % 10 == 0)
    });
    assert!(out_of_stock > 0, "no out-of-stock item was viewed: are ids random?");
    assert_eq!(run.failures("GET", "/items/[id]"), out_of_stock);
    assert_eq!(run.failures("GET", "/items"), 0);
    assert_eq!(run.failures("GET", "/cart"), 0);
    assert_no_task_errors(run);
    assert!(run.stdout.contains("Aggregated"), "no table:\n{}", run.stdout);
}

/// `socket-echo` with `users` users and `iterations` iterations: one TCP
/// connection per user, every line and datagram echoed and counted.
pub fn assert_echo_run(run: &Outcome, echo: &EchoServers, users: u64, iterations: u64) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.count("tcp", "connect"), users);
    assert_eq!(echo.tcp_connections_when(users), users);
    let (lines, datagrams) = (run.count("tcp", "echo line"), run.count("udp", "echo datagram"));
    assert_eq!(lines + datagrams, iterations);
    assert_eq!(echo.udp_datagrams(), datagrams);
    assert_eq!(run.summary()["totals"]["failures"], 0);
    assert_no_task_errors(run);
    // Each echoed line is as long as the line sent.
    let line = &run.row("tcp", "echo line").unwrap();
    assert_eq!(line["avg_length"].as_f64().unwrap(), "hello from user 0\n".len() as f64);
}

/// `xmlrpc-calc` with `iterations` iterations: every call served, every sum
/// right and every echoed value unchanged.
pub fn assert_calculator_run(run: &Outcome, server: &XmlRpcServer, iterations: u64) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let (add, echo) = (run.count("xmlrpc", "add"), run.count("xmlrpc", "echo"));
    assert_eq!(add + echo, iterations);
    assert_eq!(server.served("add"), add);
    assert_eq!(server.served("echo"), echo);
    assert_eq!(run.summary()["totals"]["failures"], 0);
    assert_no_task_errors(run);
}

/// The gRPC method the `grpc-hello` examples call.
pub const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

/// `grpc-hello` with `iterations` iterations: every call served and every
/// greeting checked in the guest.
pub fn assert_greeter_run(run: &Outcome, server: &GrpcServer, iterations: u64) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.count("grpc", SAY_HELLO), iterations);
    assert_eq!(server.calls(SAY_HELLO), iterations);
    assert_eq!(run.failures("grpc", SAY_HELLO), 0);
    assert_no_task_errors(run);
    // Response length is the reply message's bytes: "Hello user N" plus 2 bytes of framing.
    let avg = run.row("grpc", SAY_HELLO).unwrap()["avg_length"].as_f64().unwrap();
    assert!((14.0..=15.0).contains(&avg), "average length {avg}");
}

/// No task failed: every check the guest made passed.
pub fn assert_no_task_errors(run: &Outcome) {
    let errors = run.summary()["task_errors"].as_array().expect("task_errors in the summary");
    assert!(errors.is_empty(), "task errors: {errors:?}\n{}", run.stdout);
}
