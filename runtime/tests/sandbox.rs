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
fn a_huge_header_from_a_guest_is_a_failure_not_a_crash() {
    let server = TargetServer::start();
    let run = hostile(&server, "-u 2 -t 2s -e MODE=huge-header");
    assert!(run.failures("GET", "/a") > 0, "{}", run.stdout);
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
