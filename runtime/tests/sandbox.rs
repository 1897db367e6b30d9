//! Hostile guests: each misbehaving user is contained, replaced, and every
//! other user's results stay exact.

use std::path::Path;

use wasmload_testkit::{guest, run_guest, run_wasmload, Outcome, TargetServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

fn hostile(server: &TargetServer, flags: &str) -> Outcome {
    let run = run_guest(wasmload(), "hostile", &server.url(), flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // Whatever user 0 did, the others' requests are all accounted for.
    assert!(run.count("GET", "/a") > 0, "{}", run.stdout);
    run
}

fn task_error(run: &Outcome, task: &str) -> (String, u64) {
    let errors = run.summary()["task_errors"].as_array().unwrap().clone();
    let row = errors
        .iter()
        .find(|e| e["task"] == task)
        .unwrap_or_else(|| panic!("no {task} error: {errors:?}"));
    (row["error"].as_str().unwrap().to_owned(), row["occurrences"].as_u64().unwrap())
}

#[test]
fn a_memory_bomb_traps_only_its_user() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 3 -t 2s --max-memory 32MiB -e MODE=bomb");
    assert_eq!(run.count("GET", "/a"), server.count("GET", "/a"));
    let (error, traps) = task_error(&run, "work");
    assert!(error.contains("forcing trap when growing memory"), "{error}");
    assert_eq!(run.summary()["user_restarts"], traps);
}

#[test]
fn an_endless_loop_is_interrupted_by_the_task_timeout() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 3 -t 2s --task-timeout 300ms -e MODE=loop");
    assert_eq!(run.count("GET", "/a"), server.count("GET", "/a"));
    let (error, traps) = task_error(&run, "work");
    assert!(error.contains("interrupted: ran longer than 300ms (--task-timeout)"), "{error}");
    assert!(traps >= 1);
}

/// A made user's instance is described before the start; one whose
/// `describe` never answers is given up after the task timeout, the run
/// starts (that user instantiated at its start), and the others' results
/// are whole.
#[test]
fn a_describe_that_never_answers_does_not_hold_the_start() {
    let server = TargetServer::start();
    let (done, outcome) = std::sync::mpsc::channel();
    let host = server.url();
    std::thread::spawn(move || {
        let flags = "-u 3 -i 30 --task-timeout 300ms -e MODE=describe-loop";
        done.send(run_guest(wasmload(), "hostile", &host, flags))
    });
    let run = outcome
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the run never ended: making its users hung");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!((run.count("GET", "/a"), server.count("GET", "/a")), (30, 30));
    assert_eq!(run.summary()["users"], 3);
}

#[test]
fn a_user_that_traps_on_every_start_backs_off() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 3 -t 2500ms -e MODE=start-trap");
    assert_eq!(run.count("GET", "/a"), server.count("GET", "/a"));
    // Waits of 100, 200, 400, 800, 1600 ms: a handful of attempts, not thousands.
    let (error, attempts) = task_error(&run, "on-start");
    assert!(error.contains("unreachable"), "{error}");
    assert!((3..=7).contains(&attempts), "{attempts} attempts");
    // The terminal hears about it once.
    assert_eq!(run.stderr.matches("trapped in on-start").count(), 1, "{}", run.stderr);
}

#[test]
fn users_that_trap_every_few_tasks_are_replaced_and_counted() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 3 -i 90 -e MODE=every-3");
    let (_, traps) = task_error(&run, "work");
    assert_eq!(run.count("GET", "/a") + traps, 90);
    assert_eq!(run.count("GET", "/a"), server.count("GET", "/a"));
    assert_eq!(run.summary()["user_restarts"], traps);
}

#[test]
fn a_huge_header_is_refused_before_it_is_sent() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 2 -t 2s -e MODE=huge-header");
    assert!(run.failures("GET", "/a") > 0, "{}", run.stdout);
    let errors = run.summary()["errors"].as_array().unwrap().clone();
    assert!(
        errors[0]["error"].as_str().unwrap().contains("over --max-call-size 16777216"),
        "{errors:?}"
    );
    // Every request the target saw came from the well-behaved user.
    assert_eq!(run.count("GET", "/a") - run.failures("GET", "/a"), server.count("GET", "/a"));
}

#[test]
fn a_flood_of_names_is_counted_under_one_overflow_row() {
    let server = TargetServer::start();
    // Not `hostile()`: the flood may take the budget before `GET /a` is
    // first seen, and then that name too is counted in the overflow row.
    let run =
        run_guest(wasmload(), "hostile", &server.url(), "-u 2 -t 2s --max-names 50 -e MODE=names");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let rows = run.summary()["requests"].as_array().unwrap().clone();
    assert!(rows.len() <= 51, "{} rows", rows.len());
    let overflow = run.row("*", "(names past --max-names 50)").expect("an overflow row");
    assert!(overflow["count"].as_u64().unwrap() > 100, "{overflow}");
    let metrics = run.summary()["metrics"].as_array().unwrap().clone();
    assert!(metrics.len() <= 51, "{} metrics", metrics.len());
    let counted: u64 = rows.iter().map(|row| row["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, run.summary()["totals"]["requests"], "every event is counted once");
}

#[test]
fn a_user_hoarding_responses_traps_at_its_budget() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 2 -t 3s --max-resources 120 -e MODE=hoard");
    let (error, traps) = task_error(&run, "work");
    assert!(
        error.contains("the user holds 120 live responses, all --max-resources allows"),
        "{error}"
    );
    assert!(traps >= 1);
    assert_eq!(run.summary()["user_restarts"], traps);
    // The hoarded bodies count against the user's host memory too.
    let memory = hostile(&server, "-u 2 -t 2s --max-host-memory 1MiB -e MODE=hoard");
    let failures = memory.summary()["errors"].as_array().unwrap().clone();
    let over = "the host would hold 1114112 bytes for the user, over --max-host-memory 1048576";
    assert!(failures.iter().any(|e| e["error"].as_str().unwrap().contains(over)), "{failures:?}");
}

#[test]
fn connections_past_the_users_budget_fail_to_connect() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 2 -t 2s --max-user-connections 5 -e MODE=connections");
    let (connects, failed) = (run.count("tcp", "connect"), run.failures("tcp", "connect"));
    assert!(failed > 0 && connects - failed == 5, "{connects} connects, {failed} failed");
    let errors = run.summary()["errors"].as_array().unwrap().clone();
    assert!(
        errors.iter().any(|e| e["error"].as_str().unwrap().contains("--max-user-connections")),
        "{errors:?}"
    );
    // User 0 kept its 5 TCP connections; user 1 has its one HTTP connection.
    assert_eq!(server.connections(), 5 + 1);
}

#[test]
fn a_log_flood_is_dropped_past_the_rate_and_counted() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 2 -t 2s --max-log-rate 8KiB -e MODE=log-flood");
    let dropped = run.summary()["log_dropped_bytes"].as_u64().unwrap();
    assert!(dropped > 1 << 20, "{dropped} bytes dropped");
    // At most two 4 KiB lines a second get through, over some 2 s.
    let printed = run.stderr.matches("[info] user 0:").count();
    assert!(printed <= 8, "{printed} lines printed");
}

#[test]
fn filesystem_imports_find_no_files() {
    let component = guest("file-opener");
    let path = component.to_str().unwrap();
    // Linked, but the WASI context has no directory to read.
    let run = run_wasmload(wasmload(), &["run", path, "-i", "2"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let errors = run.summary()["task_errors"].as_array().unwrap().clone();
    assert_eq!(errors[0]["occurrences"], 2);
    assert!(
        errors[0]["error"].as_str().unwrap().contains("No such file or directory"),
        "{errors:?}"
    );

    let inspected = run_wasmload(wasmload(), &["inspect", path]);
    assert_eq!(inspected.code, Some(0), "{}", inspected.stderr);
    assert!(inspected.stdout.contains("wasi:filesystem/preopens@"), "{}", inspected.stdout);
    assert!(!inspected.stdout.contains("DENIED"), "{}", inspected.stdout);
    assert!(inspected.stdout.contains("task read passwd (weight 1)"), "{}", inspected.stdout);
}

#[test]
fn requests_to_hosts_not_allowed_never_connect() {
    let allowed = TargetServer::start();
    let other = TargetServer::start();
    let elsewhere = format!("-i 3 -e PATH={}/x", other.url());
    let run = run_guest(wasmload(), "http-hammer", &allowed.url(), &elsewhere);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let path = format!("{}/x", other.url());
    assert_eq!((run.count("GET", &path), run.failures("GET", &path)), (3, 3));
    let error = run.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.contains("is not an allowed host (see --allow-host)"), "{error}");
    assert_eq!(other.count("GET", "/x"), 0);

    let port = other.url().rsplit(':').next().unwrap().to_owned();
    let granted = run_guest(
        wasmload(),
        "http-hammer",
        &allowed.url(),
        &format!("{elsewhere} --allow-host 127.0.0.1:{port}"),
    );
    assert_eq!(granted.failures("GET", &path), 0, "{}", granted.stdout);
    assert_eq!(other.count("GET", "/x"), 3);
}

#[test]
fn names_that_resolve_to_forbidden_addresses_are_denied() {
    let server = TargetServer::start();
    let port = server.url().rsplit(':').next().unwrap().to_owned();
    // `localhost` is allowed by name, but resolves to loopback, which is not.
    let flags = format!("-i 2 --allow-host localhost -e PATH=http://localhost:{port}/x");
    let run = run_guest(wasmload(), "http-hammer", "http://127.0.0.2:9", &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.summary()["totals"]["failures"], 2);
    let error = run.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.contains("localhost (resolves to"), "{error}");
    assert_eq!(server.count("GET", "/x"), 0);
}
