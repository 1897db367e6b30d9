//! `--threshold`: criteria checked on the final summary; any failure makes
//! the exit code 99, and the results are written all the same.

use std::path::Path;

use wasmload_testkit::{run_guest, Outcome, TargetServer};

fn with_thresholds(server: &TargetServer, thresholds: &[&str]) -> Outcome {
    let mut args =
        vec!["run".to_owned(), wasmload_testkit::guest("weighted").display().to_string()];
    args.extend(["--host".to_owned(), server.url(), "-i".to_owned(), "40".to_owned()]);
    for threshold in thresholds {
        args.extend(["--threshold".to_owned(), (*threshold).to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wasmload_testkit::run_wasmload(Path::new(env!("CARGO_BIN_EXE_wasmload")), &args)
}

#[test]
fn thresholds_that_hold_exit_zero() {
    let server = TargetServer::start();
    let run = with_thresholds(&server, &["p95<30s", "fail_ratio<1%", "GET /a: max<60s", "rps>0"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout.matches("held").count(), 4, "{}", run.stdout);
}

#[test]
fn a_failed_threshold_exits_99_and_keeps_the_results() {
    let server = TargetServer::start();
    let run =
        with_thresholds(&server, &["p50>10s", "GET /a: fail_ratio<=0", "GET /nowhere: p99<1s"]);
    assert_eq!(run.code, Some(99), "stderr: {}", run.stderr);
    assert!(run.stdout.contains("FAILED p50>10s: p50 = "), "{}", run.stdout);
    assert!(
        run.stdout.contains("held   GET /a: fail_ratio<=0: fail_ratio = 0.0000"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("FAILED GET /nowhere: p99<1s: no requests in that scope"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stderr.trim(), "wasmload: 2 of 3 thresholds failed");
    assert_eq!(run.summary()["totals"]["requests"], 40);
}

#[test]
fn a_bad_threshold_is_refused_before_the_run() {
    let server = TargetServer::start();
    let run = run_guest(
        Path::new(env!("CARGO_BIN_EXE_wasmload")),
        "weighted",
        &server.url(),
        "-i 5 --threshold p95<<300ms",
    );
    assert_eq!(run.code, Some(2));
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("bad value `<300ms` for p95"), "{}", run.stderr);
    assert_eq!(server.count("GET", "/a") + server.count("GET", "/b"), 0);
}

#[test]
fn abort_on_threshold_stops_the_run_early() {
    let server = TargetServer::start();
    let flags = "-u 2 -t 60s -e PATH=/slow/100 --threshold p50<10ms --abort-on-threshold";
    let run =
        run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), "http-hammer", &server.url(), flags);
    assert_eq!(run.code, Some(99), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("threshold failed during the run (p50<10ms: p50 = "),
        "{}",
        run.stderr
    );
    let seconds = run.summary()["duration_s"].as_f64().unwrap();
    assert!(seconds < 30.0, "ran {seconds} s of 60");
    assert!(run.count("GET", "/slow/100") > 0);
}
