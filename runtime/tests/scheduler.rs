//! The closed model: weights, iterations, run time, spawn rate, tags, and
//! users that trap.

use std::path::Path;
use std::time::Duration;

use wasmload_testkit::{guest, run_wasmload, run_wasmload_signalled, Outcome, TargetServer};

fn wasmload(args: &[&str]) -> Outcome {
    run_wasmload(Path::new(env!("CARGO_BIN_EXE_wasmload")), args)
}

#[test]
fn iterations_stop_after_exactly_n_and_tasks_follow_their_weights() {
    let server = TargetServer::start();
    let component = guest("weighted");
    let run = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-u",
        "4",
        "-i",
        "4000",
        "--host",
        &server.url(),
        "--seed",
        "7",
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let (a, b) = (run.count("GET", "/a"), run.count("GET", "/b"));
    assert_eq!(a + b, 4000);
    assert_eq!(server.count("GET", "/a"), a);
    assert_eq!(server.count("GET", "/b"), b);
    // Weights 3:1, so /a is 75% of the tasks; 4000 draws stay within ±4%.
    let share = a as f64 / 4000.0;
    assert!((0.71..0.79).contains(&share), "share of /a: {share}");
}

#[test]
fn users_are_split_between_classes_by_weight() {
    let server = TargetServer::start();
    let component = guest("classes");
    let run = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-u",
        "8",
        "-i",
        "40",
        "--host",
        &server.url(),
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(server.count("GET", "/start/admin"), 2);
    assert_eq!(server.count("GET", "/start/member"), 6);
    assert_eq!(run.count("GET", "/audit") + run.count("GET", "/browse"), 40);
    assert!(run.count("GET", "/audit") > 0 && run.count("GET", "/browse") > 0);
}

#[test]
fn tags_select_and_exclude_tasks() {
    let server = TargetServer::start();
    let component = guest("weighted");
    let only_b = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-i",
        "30",
        "--host",
        &server.url(),
        "-T",
        "b",
    ]);
    assert_eq!(only_b.code, Some(0), "stderr: {}", only_b.stderr);
    assert_eq!(
        (only_b.count("GET", "/a"), only_b.count("GET", "/b")),
        (0, 30)
    );

    let not_b = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-i",
        "30",
        "--host",
        &server.url(),
        "-E",
        "b",
    ]);
    assert_eq!(
        (not_b.count("GET", "/a"), not_b.count("GET", "/b")),
        (30, 0)
    );

    let nothing = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-i",
        "30",
        "--host",
        &server.url(),
        "-T",
        "nope",
    ]);
    assert_eq!(nothing.code, Some(2));
    assert!(
        nothing.stderr.contains("no user class has a task to run"),
        "{}",
        nothing.stderr
    );
}

#[test]
fn run_time_stops_the_run() {
    let server = TargetServer::start();
    let component = guest("http-hammer");
    let run = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-u",
        "3",
        "-t",
        "2s",
        "--host",
        &server.url(),
        "-e",
        "WAIT_MS=50",
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let summary = run.summary();
    let seconds = summary["duration_s"].as_f64().unwrap();
    // Stops at 2 s; in-flight requests get at most the stop timeout.
    assert!((2.0..12.0).contains(&seconds), "ran {seconds} s");
    assert!(run.count("GET", "/") > 0);
    assert_eq!(run.count("GET", "/"), server.count("GET", "/"));
}

#[test]
fn spawn_rate_spreads_user_starts() {
    let server = TargetServer::start();
    let component = guest("cookies");
    // One user per second for 2.5 s: users start at 0 s, 1 s and 2 s.
    let run = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-u",
        "10",
        "-r",
        "1",
        "-t",
        "2500ms",
        "--host",
        &server.url(),
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(server.logins(), 3);
    assert_eq!(run.summary()["users"], 3);
}

#[test]
fn a_trap_in_one_user_leaves_the_others_running() {
    let server = TargetServer::start();
    let component = guest("trapper");
    let run = wasmload(&[
        "run",
        component.to_str().unwrap(),
        "-u",
        "3",
        "-i",
        "60",
        "--host",
        &server.url(),
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // User 0 ran two tasks, then trapped on its third; the others did the rest.
    assert_eq!(run.count("GET", "/a"), 59);
    assert_eq!(server.count("GET", "/a"), 59);
    let trap_lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("trapped"))
        .collect();
    assert_eq!(trap_lines.len(), 1, "{}", run.stderr);
    assert!(
        trap_lines[0].contains("user 0 (trapper) trapped in get"),
        "{}",
        trap_lines[0]
    );
    assert!(trap_lines[0].contains("unreachable"), "{}", trap_lines[0]);
    let task_errors = &run.summary()["task_errors"];
    assert_eq!(task_errors[0]["task"], "get");
    assert_eq!(task_errors[0]["occurrences"], 1);
    assert!(
        run.stderr.contains("user 0 gives up on purpose"),
        "{}",
        run.stderr
    );
}

#[test]
fn sigterm_stops_gracefully_and_keeps_every_result() {
    let server = TargetServer::start();
    let component = guest("cookies");
    let run = run_wasmload_signalled(
        Path::new(env!("CARGO_BIN_EXE_wasmload")),
        &[
            "run",
            component.to_str().unwrap(),
            "-u",
            "4",
            "-t",
            "60s",
            "--host",
            &server.url(),
        ],
        Duration::from_millis(1500),
        "TERM",
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("stopping"), "{}", run.stderr);
    // Everything the server answered is in the results, on_stop included.
    assert!(run.count("GET", "/me") > 0);
    assert_eq!(run.count("GET", "/me"), server.count("GET", "/me"));
    assert_eq!(run.count("POST", "/logout"), 4);
    assert_eq!(server.count("POST", "/logout"), 4);
    assert!(run.summary()["duration_s"].as_f64().unwrap() < 30.0);
}
