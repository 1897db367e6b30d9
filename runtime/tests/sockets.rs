//! Raw sockets end to end: TCP and UDP echo servers, and a real Redis.

use std::path::Path;

use wasmload_testkit::{checks, run_guest, EchoServers, Outcome, RedisServer};

fn load(guest: &str, host: &str, flags: &str) -> Outcome {
    run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), guest, host, flags)
}

#[test]
fn request_helpers_time_each_tcp_and_udp_exchange() {
    let echo = EchoServers::start();
    let flags = format!(
        "-u 3 -i 60 --seed 1 --allow-host 127.0.0.1 -e TCP={} -e UDP={}",
        echo.tcp_address(),
        echo.udp_address()
    );
    let run = load("socket-echo", "tcp://127.0.0.1:1", &flags);
    checks::assert_echo_run(&run, &echo, 3, 60);
}

#[test]
fn failed_connects_and_silent_peers_are_failed_events() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    // A UDP socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let flags = format!(
        "-i 2 --timeout 200ms --allow-host 127.0.0.1 -e TCP=127.0.0.1:{closed_port} -e UDP={}",
        silent.local_addr().unwrap()
    );
    let run = load("socket-echo", "tcp://127.0.0.1:1", &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // on_start cannot connect: the connect is a failed event, and the user ends.
    assert_eq!((run.count("tcp", "connect"), run.failures("tcp", "connect")), (1, 1));
    let error = run.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("connect:"), "{error}");
    assert_eq!(run.summary()["task_errors"][0]["task"], "on-start");

    let echo = EchoServers::start();
    let flags = format!(
        "-i 6 --timeout 200ms --allow-host 127.0.0.1 -e TCP={} -e UDP={}",
        echo.tcp_address(),
        silent.local_addr().unwrap()
    );
    let run = load("socket-echo", "tcp://127.0.0.1:1", &flags);
    let datagrams = run.count("udp", "echo datagram");
    assert!(datagrams > 0, "{}", run.stdout);
    assert_eq!(run.failures("udp", "echo datagram"), datagrams);
    assert_eq!(run.failures("tcp", "echo line"), 0);
}

#[test]
fn redis_commands_match_what_redis_counted() {
    let redis = RedisServer::start();
    let host = format!("tcp://{}", redis.address());
    let run = load("tcp-redis", &host, "-u 4 -i 200");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.count("tcp", "connect"), 4);
    // Each user's on_start SETs once; then 200 tasks of PING, SET or GET.
    let (ping, set, get) =
        (run.count("redis", "PING"), run.count("redis", "SET"), run.count("redis", "GET"));
    assert_eq!(ping + set + get, 204);
    assert_eq!(redis.calls("ping"), ping);
    assert_eq!(redis.calls("set"), set);
    assert_eq!(redis.calls("get"), get);
    assert_eq!(run.summary()["totals"]["failures"], 0);
}

#[test]
fn connections_to_hosts_not_allowed_are_refused_before_connecting() {
    let echo = EchoServers::start();
    let flags = format!("-i 2 -e TCP={} -e UDP={}", echo.tcp_address(), echo.udp_address());
    let run = load("socket-echo", "tcp://127.0.0.1:1", &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!((run.count("tcp", "connect"), run.failures("tcp", "connect")), (1, 1));
    let error = run.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.contains("is not an allowed host"), "{error}");
    assert_eq!(echo.tcp_connections(), 0);
}
