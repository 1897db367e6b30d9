//! WebSocket end to end, against PyPI's `websockets` echo server: the
//! run's counts equal the server's own, and failures say why.

use std::path::Path;

use wasmload_testkit::{example, guest, run_component, Outcome, WebSocketServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

fn load(guest_name: &str, host: &str, flags: &str) -> Outcome {
    run_component(wasmload(), &guest(guest_name), host, flags)
}

#[test]
fn chat_exchanges_match_the_servers_own_counts() {
    chat_matches_the_server(&guest("websocket-chat"));
}

#[test]
fn python_chat_exchanges_match_the_servers_own_counts() {
    chat_matches_the_server(&example("python", "websocket-chat"));
}

#[test]
fn js_chat_exchanges_match_the_servers_own_counts() {
    chat_matches_the_server(&example("js", "websocket-chat"));
}

#[test]
fn go_chat_exchanges_match_the_servers_own_counts() {
    chat_matches_the_server(&example("go", "websocket-chat"));
}

#[test]
fn c_chat_exchanges_match_the_servers_own_counts() {
    chat_matches_the_server(&example("c", "websocket-chat"));
}

#[test]
fn zig_chat_exchanges_match_the_servers_own_counts() {
    chat_matches_the_server(&example("zig", "websocket-chat"));
}

fn chat_matches_the_server(chatter: &Path) {
    let server = WebSocketServer::start();
    let run =
        run_component(wasmload(), chatter, &server.url(), "-u 4 -i 200 --seed 5 -e WAIT_MS=5");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.summary()["errors"], serde_json::json!([]), "{}", run.stderr);
    assert_eq!(run.summary()["task_errors"], serde_json::json!([]), "{}", run.stderr);
    let count = |name: &str| run.count("ws", name);
    // Every user shook hands once, offering the subprotocol the server chose
    // and the header that names it.
    let stats = server.stats();
    assert_eq!(count("connect"), 4);
    assert_eq!(stats["connections"], 4);
    assert_eq!(stats["subprotocol chat.v1"], 4);
    assert_eq!(stats["users"], 4);
    // Every iteration was one exchange, and the server got each message.
    assert_eq!(count("say") + count("upload") + count("ping"), 200);
    assert!(count("say") > 0 && count("upload") > 0 && count("ping") > 0);
    assert_eq!(stats["text"].as_u64(), Some(count("say")));
    assert_eq!(stats["binary"].as_u64(), Some(count("upload")));
    // An upload's length is the 256 bytes echoed.
    assert_eq!(run.row("ws", "upload").unwrap()["avg_length"].as_f64(), Some(256.0));
    // on_stop closed every connection normally.
    assert_eq!(stats["closed normally"], 4);
}

#[test]
fn silences_closes_and_refused_hosts_are_failures_that_say_why() {
    let server = WebSocketServer::start();
    let flags = "-u 2 -i 6 -e DENIED_URL=ws://127.0.0.2:8765/chat";
    let run = load("websocket-faults", &server.url(), flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.summary()["task_errors"], serde_json::json!([]), "{}", run.stderr);
    let count = |name: &str| (run.count("ws", name), run.failures("ws", name));
    assert_eq!(count("silence"), (6, 6));
    assert_eq!(count("closing"), (6, 6));
    // Two users and six probes connected; six refused connects never left.
    assert_eq!(count("connect"), (2 + 6 + 6, 6));
    assert_eq!(server.count("connections"), 2 + 6);
    let errors: Vec<&str> = run.summary()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["error"].as_str().unwrap())
        .collect();
    let has = |text: &str| errors.iter().any(|error| error.starts_with(text));
    assert!(has("timeout"), "{errors:?}");
    assert!(has("closed by the peer: 4000 asked to"), "{errors:?}");
    assert!(has("invalid address:"), "{errors:?}");
}

#[test]
fn wss_checks_the_servers_certificate() {
    let server = WebSocketServer::start_tls();
    let ca = std::env::temp_dir().join(format!("wasmload-ws-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, server.certificate_pem().unwrap()).unwrap();
    let flags = format!("-u 2 -i 20 -e WAIT_MS=5 --ca-cert {}", ca.display());
    let trusted = load("websocket-chat", &server.url(), &flags);
    assert_eq!(trusted.code, Some(0), "stderr: {}", trusted.stderr);
    assert_eq!(trusted.summary()["errors"], serde_json::json!([]), "{}", trusted.stderr);
    let count = |name: &str| trusted.count("ws", name);
    assert_eq!(count("say") + count("upload") + count("ping"), 20);
    assert_eq!(server.count("text"), count("say"));

    // Without the certificate, the server is no one the run trusts.
    let untrusted = load("websocket-chat", &server.url(), "-i 1");
    assert_eq!(untrusted.failures("ws", "connect"), 1);
    let error = untrusted.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("connect: tls:") && error.contains("certificate"), "{error}");
    let _ = std::fs::remove_file(ca);
}
