//! Users written in C, Zig, Python, JavaScript and Go: each example is built
//! from source with its language's toolchain (scripts/toolchains.sh) and
//! the SDK under sdk/, then run end to end against a real server, and must
//! show the same exact counts as the Rust examples.

use std::path::Path;
use std::process::Command;

use wasmload_testkit::{
    checks, example, guest_target_dir, run_component, run_wasmload, EchoServers, GrpcServer,
    Outcome, TargetServer, XmlRpcServer,
};

fn load(language: &str, name: &str, host: &str, flags: &str) -> Outcome {
    let component = example(language, name);
    run_component(Path::new(env!("CARGO_BIN_EXE_wasmload")), &component, host, flags)
}

fn shopper(language: &str) {
    let server = TargetServer::start();
    // --max-users sizes the instance pool to exactly these users, so a
    // component that needs more slots than its footprint says fails here.
    let flags = "-u 10 --max-users 10 -i 300 -e WAIT_MS=0-5";
    let run = load(language, "http-basic", &server.url(), flags);
    checks::assert_shopper_run(&run, &server, 10, 300);
}

fn echoer(language: &str) {
    let echo = EchoServers::start();
    let flags = format!(
        "-u 3 -i 60 --allow-host 127.0.0.1 -e TCP={} -e UDP={}",
        echo.tcp_address(),
        echo.udp_address()
    );
    let run = load(language, "socket-echo", "tcp://127.0.0.1:1", &flags);
    checks::assert_echo_run(&run, &echo, 3, 60);
}

fn greeter(language: &str) {
    let server = GrpcServer::start();
    let run = load(language, "grpc-hello", &server.url(), "-u 4 -i 200");
    checks::assert_greeter_run(&run, &server, 200);
}

fn calculator(language: &str) {
    let server = XmlRpcServer::start();
    let run = load(language, "xmlrpc-calc", &server.url(), "-u 4 -i 120");
    checks::assert_calculator_run(&run, &server, 120);
}

#[test]
fn c_shopper_matches_the_server() {
    shopper("c");
}

#[test]
fn c_echoer_talks_tcp_and_udp() {
    echoer("c");
}

#[test]
fn c_greeter_calls_grpc() {
    greeter("c");
}

#[test]
fn c_calculator_calls_xmlrpc() {
    calculator("c");
}

#[test]
fn zig_shopper_matches_the_server() {
    shopper("zig");
}

#[test]
fn zig_greeter_calls_grpc() {
    greeter("zig");
}

#[test]
fn python_shopper_matches_the_server() {
    shopper("python");
}

#[test]
fn python_calculator_calls_xmlrpc() {
    calculator("python");
}

#[test]
fn python_greeter_calls_grpc() {
    greeter("python");
}

#[test]
fn python_echoer_talks_tcp_and_udp() {
    echoer("python");
}

#[test]
fn js_shopper_matches_the_server() {
    shopper("js");
}

#[test]
fn js_echoer_talks_tcp_and_udp() {
    echoer("js");
}

#[test]
fn js_greeter_calls_grpc() {
    greeter("js");
}

#[test]
fn js_calculator_calls_xmlrpc() {
    calculator("js");
}

#[test]
fn go_shopper_matches_the_server() {
    shopper("go");
}

#[test]
fn go_echoer_talks_tcp_and_udp() {
    echoer("go");
}

#[test]
fn go_greeter_calls_grpc() {
    greeter("go");
}

#[test]
fn go_calculator_calls_xmlrpc() {
    calculator("go");
}

/// Go's own clients (net/http's Get, Post and DefaultClient, and an
/// XML-RPC call written with encoding/xml), unchanged, send every request
/// through the user's session: the run counts what the servers counted.
#[test]
fn go_standard_library_clients_are_recorded_through_the_round_tripper() {
    let (target, xmlrpc) = (TargetServer::start(), XmlRpcServer::start());
    let flags = format!("-u 3 -i 90 --allow-host 127.0.0.1 -e XMLRPC={}", xmlrpc.url());
    let run = load("go", "net-http-client", &target.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.count("POST", "/login"), 3);
    assert_eq!(target.logins(), 3);
    let (home, items, adds) =
        (run.count("GET", "/"), run.count("GET", "/items/[id]"), run.count("POST", "/RPC2"));
    assert_eq!(home + items + adds, 90);
    assert!(home > 0 && items > 0 && adds > 0, "{}", run.stdout);
    assert_eq!(target.count("GET", "/"), home);
    let served_items: u64 = target
        .counts()
        .iter()
        .filter(|((method, path), _)| method == "GET" && path.starts_with("/items/"))
        .map(|(_, count)| count)
        .sum();
    assert_eq!(served_items, items);
    assert_eq!(xmlrpc.served("add"), adds);
    assert_eq!(run.summary()["totals"]["failures"], 0);
    checks::assert_no_task_errors(&run);
}

/// `wasmload new --lang LANGUAGE` writes a project that builds with its own
/// build.sh and runs as is.
fn starter(language: &str) {
    starter_with_tools(language, None);
}

/// [`starter`], its toolchain installed by the starter itself into `tools`
/// when given (not from the repository's scripts).
fn starter_with_tools(language: &str, tools: Option<&Path>) {
    let fresh = if tools.is_some() { "-fresh" } else { "" };
    let dir =
        std::env::temp_dir().join(format!("wasmload-new-{language}{fresh}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let project = dir.join("visits");
    let created = run_wasmload(
        Path::new(env!("CARGO_BIN_EXE_wasmload")),
        &["new", "--lang", language, project.to_str().unwrap()],
    );
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    assert!(created.stdout.contains("./build.sh"), "{}", created.stdout);

    // Rust starters share the guests' target dir, so dependencies build once.
    let guests = guest_target_dir();
    let mut build = Command::new(project.join("build.sh"));
    build.env("CARGO_TARGET_DIR", &guests);
    if let Some(tools) = tools {
        build.env("WASMLOAD_TOOLS", tools);
    }
    let built = build.output().unwrap();
    assert!(
        built.status.success(),
        "the {language} starter did not build: {}\n(is its toolchain installed? scripts/toolchains.sh {language})",
        String::from_utf8_lossy(&built.stderr)
    );

    let server = TargetServer::start();
    let run = run_component(
        Path::new(env!("CARGO_BIN_EXE_wasmload")),
        &project.join("visits.wasm"),
        &server.url(),
        "-u 2 -i 4",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!((run.count("GET", "home"), run.failures("GET", "home")), (4, 0));
    assert_eq!(server.count("GET", "/"), 4);
    checks::assert_no_task_errors(&run);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rust_starter_builds_and_runs() {
    starter("rust");
}

#[test]
fn c_starter_builds_and_runs() {
    starter("c");
}

#[test]
fn zig_starter_builds_and_runs() {
    starter("zig");
}

#[test]
fn python_starter_builds_and_runs() {
    starter("python");
}

#[test]
fn js_starter_builds_and_runs() {
    starter("js");
}

#[test]
fn go_starter_builds_and_runs() {
    starter("go");
}

#[test]
fn a_starter_installs_its_own_toolchain_on_first_build() {
    let tools = std::env::temp_dir().join(format!("wasmload-starter-tools-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tools);
    starter_with_tools("js", Some(&tools));
    assert!(tools.join("js/node_modules/.bin/componentize-qjs").exists());
    let _ = std::fs::remove_dir_all(&tools);
}
