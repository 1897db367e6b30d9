//! The closed model: classes and tasks by weight, tags, iterations, run
//! time, spawn rate, signals, and users that trap.

use std::path::Path;
use std::time::Duration;

use wasmload::benching::BenchUser;
use wasmload_testkit::{guest, run_guest, run_wasmload_signalled, Outcome, TargetServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

fn load(guest: &str, host: &str, flags: &str) -> Outcome {
    run_guest(wasmload(), guest, host, flags)
}

#[test]
fn iterations_stop_after_exactly_n_and_tasks_follow_their_weights() {
    let server = TargetServer::start();
    let run = load("weighted", &server.url(), "-u 4 -i 4000 --seed 7");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let (a, b) = (run.count("GET", "/a"), run.count("GET", "/b"));
    assert_eq!(a + b, 4000);
    assert!(run.summary()["all_users_started_s"].is_f64(), "{}", run.summary());
    assert_eq!((server.count("GET", "/a"), server.count("GET", "/b")), (a, b));
    // Weights 3:1, so /a is 75% of the tasks; 4000 draws stay within ±4%.
    let share = a as f64 / 4000.0;
    assert!((0.71..0.79).contains(&share), "share of /a: {share}");
}

#[test]
fn users_are_split_between_classes_by_weight() {
    let server = TargetServer::start();
    let run = load("classes", &server.url(), "-u 8 -i 40");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(server.count("GET", "/start/admin"), 2);
    assert_eq!(server.count("GET", "/start/member"), 6);
    let (audits, browses) = (run.count("GET", "/audit"), run.count("GET", "/browse"));
    assert_eq!(audits + browses, 40);
    assert!(audits > 0 && browses > 0);
}

#[test]
fn tags_select_and_exclude_tasks() {
    let server = TargetServer::start();
    let only_b = load("weighted", &server.url(), "-i 30 -T b");
    assert_eq!(only_b.code, Some(0), "stderr: {}", only_b.stderr);
    assert_eq!((only_b.count("GET", "/a"), only_b.count("GET", "/b")), (0, 30));

    let not_b = load("weighted", &server.url(), "-i 30 -E b");
    assert_eq!((not_b.count("GET", "/a"), not_b.count("GET", "/b")), (30, 0));

    let nothing = load("weighted", &server.url(), "-i 30 -T nope");
    assert_eq!(nothing.code, Some(2));
    assert!(nothing.stderr.contains("no user class has a task to run"), "{}", nothing.stderr);
}

#[test]
fn run_time_stops_the_run() {
    let server = TargetServer::start();
    let run = load("http-hammer", &server.url(), "-u 3 -t 2s -e WAIT_MS=50");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let seconds = run.summary()["duration_s"].as_f64().unwrap();
    // Stops at 2 s; in-flight requests get at most the stop timeout.
    assert!((2.0..12.0).contains(&seconds), "ran {seconds} s");
    assert!(run.count("GET", "/") > 0);
    assert_eq!(run.count("GET", "/"), server.count("GET", "/"));
}

#[test]
fn the_run_ends_with_its_last_iteration_not_after_the_wait_that_follows() {
    let server = TargetServer::start();
    // Each user waits 10 minutes after its task; the last of the 3
    // iterations ends the run, and the waiting users are stopped.
    let run = load("http-hammer", &server.url(), "-u 3 -i 3 -t 20m -e WAIT_MS=600000");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(server.count("GET", "/"), 3);
    let seconds = run.summary()["duration_s"].as_f64().unwrap();
    assert!(seconds < 600.0, "ran {seconds} s: it waited for the users' wait");
}

#[test]
fn spawn_rate_spreads_user_starts() {
    let server = TargetServer::start();
    // One user per second for 2.5 s: users start at 0 s, 1 s and 2 s.
    let run = load("cookies", &server.url(), "-u 10 -r 1 -t 2500ms");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(server.logins(), 3);
    assert_eq!(run.summary()["users"], 3);
}

#[test]
fn a_trap_in_one_user_leaves_the_others_running() {
    let server = TargetServer::start();
    let run = load("trapper", &server.url(), "-u 3 -i 60");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // User 0 traps on the third task of each life and is replaced; every
    // claimed task is either a request or a trap.
    let task_errors = &run.summary()["task_errors"];
    assert_eq!(task_errors[0]["task"], "get");
    let traps = task_errors[0]["occurrences"].as_u64().unwrap();
    assert!(traps >= 1);
    assert_eq!(run.count("GET", "/a") + traps, 60);
    assert_eq!(server.count("GET", "/a"), run.count("GET", "/a"));
    assert_eq!(run.summary()["user_restarts"], traps);
    // One line on the terminal however often it traps, saying what and where.
    let lines: Vec<&str> = run.stderr.lines().filter(|l| l.contains("trapped")).collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].contains("user 0 (trapper) trapped in get"), "{}", lines[0]);
    assert!(
        lines[0].contains("unreachable") && lines[0].contains("at trapper::Trapper::get"),
        "{}",
        lines[0]
    );
    // The guest's panic message reaches the log as one line.
    assert!(run.stderr.contains("user 0: panicked at"), "{}", run.stderr);
}

#[test]
fn sigterm_stops_gracefully_and_keeps_every_result() {
    let server = TargetServer::start();
    let component = guest("cookies");
    let args =
        ["run", component.to_str().unwrap(), "-u", "4", "-t", "60s", "--host", &server.url()];
    let run = run_wasmload_signalled(wasmload(), &args, &[(Duration::from_millis(1500), "TERM")]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("stopping"), "{}", run.stderr);
    // Everything the server answered is in the results, on_stop included.
    assert!(run.count("GET", "/me") > 0);
    assert_eq!(run.count("GET", "/me"), server.count("GET", "/me"));
    assert_eq!(run.count("POST", "/logout"), 4);
    assert_eq!(server.count("POST", "/logout"), 4);
    assert!(run.summary()["duration_s"].as_f64().unwrap() < 30.0);
}

#[test]
fn a_second_interrupt_stops_at_once_and_still_writes_results() {
    let server = TargetServer::start();
    let component = guest("http-hammer");
    let host = server.url();
    let args = [
        "run",
        component.to_str().unwrap(),
        "-u",
        "2",
        "--host",
        &host,
        "--stop-timeout",
        "60s",
        "-e",
        "PATH=/slow/20000",
    ];
    let signals = [(Duration::from_millis(1500), "INT"), (Duration::from_millis(500), "INT")];
    let run = run_wasmload_signalled(wasmload(), &args, &signals);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("stopping now"), "{}", run.stderr);
    // Neither the 20 s requests nor the 60 s grace were waited for.
    assert!(run.summary()["duration_s"].as_f64().unwrap() < 15.0);
    assert_eq!(run.count("GET", "/slow/20000"), 0);
}

/// A store keeps the fiber stack of its last call for the next one; a user
/// about to wait gives it back (wasmtime patched for it: vendor/README.md),
/// and its next call takes one again.
#[test]
fn a_resting_user_holds_no_fiber_stack() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut user = BenchUser::start(&guest("host-calls")).await.expect("the user starts");
        // Task 0 sleeps (an async host call, so on the fiber) 1,000 times.
        user.run_task(0).await.expect("the task runs");
        assert_eq!(user.stacks_held(), 1, "the store keeps its last stack");
        user.rest();
        assert_eq!(user.stacks_held(), 0);
        user.run_task(0).await.expect("a rested user runs again");
        assert_eq!(user.stacks_held(), 1);
    });
}

/// With a fixed user count, every user's instance is made before the run
/// starts (k6's init stage), its `describe` run, and each user starts with its
/// own, its class built once: a pool with room for those and the one that
/// describes the component runs them all, none instantiated twice. Other loads
/// make none ahead.
#[test]
fn a_fixed_count_makes_its_users_before_the_start_and_starts_with_them() {
    use std::sync::Arc;
    use wasmload::engine::UserComponent;
    use wasmload::run::{self, RunLog, RunSetting, RunSpec, Segment};

    let server = TargetServer::start();
    let log = RunLog::kept(1 << 16);
    let prepare = |users: u32, options: serde_json::Value| {
        let spec = RunSpec::from_options(options.as_object().unwrap()).unwrap();
        let pool = users + 1;
        let component =
            UserComponent::load_file(&guest("cookies"), pool, spec.guest.max_memory, None).unwrap();
        let setting = RunSetting {
            name: "cookies".to_owned(),
            log: log.clone(),
            ca_files: Vec::new(),
            trust_host_addresses: true,
            segment: Segment::WHOLE,
            local_ips: Default::default(),
        };
        run::prepare(Arc::new(component), spec, setting)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let fixed = serde_json::json!({"users": 5, "iterations": 20, "host": server.url()});
        let mut prepared = prepare(5, fixed).await.unwrap();
        assert_eq!(prepared.make_users().await, 5);
        let lines = log.lines();
        for user in 0..5 {
            let said = format!("[stdout] user {user}: describing");
            assert!(lines.contains(&said), "{lines:?}");
        }
        let summary = prepared.start().finish().await.unwrap().summary;
        // The Rust SDK keeps the class `describe` built for the start.
        let lines = log.lines();
        for user in 0..5 {
            let said = format!("[stdout] user {user}: describing");
            let times = lines.iter().filter(|line| **line == said).count();
            assert_eq!(times, 1, "user {user} built its class {times} times: {lines:?}");
        }
        assert_eq!(summary.user_restarts, 0);
        assert!(summary.task_errors.is_empty(), "{:?}", summary.task_errors);
        assert_eq!(summary.users, 5);
        assert_eq!(server.logins(), 5);

        let ramp = serde_json::json!({"stages": "1s:5", "host": server.url()});
        assert_eq!(prepare(5, ramp).await.unwrap().make_users().await, 0);
    });
}
