//! Load models: the open model's arrival rate, dropped iterations and
//! corrected latency; stages; a guest's load shape; fixed-count classes;
//! options from a config file and the environment.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use wasmload_testkit::{guest, run_guest, run_wasmload_in, Outcome, Setting, TargetServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

fn load(guest: &str, host: &str, flags: &str) -> Outcome {
    run_guest(wasmload(), guest, host, flags)
}

/// A figure of the Aggregated row: `times` for the default ones,
/// `uncorrected` for those from the send.
fn aggregated(run: &Outcome, times: &str, figure: &str) -> f64 {
    let row = &run.summary()["aggregated"];
    let row = if times == "uncorrected" { &row["uncorrected"] } else { row };
    row[figure].as_f64().unwrap_or_else(|| panic!("no {times} {figure} in {row}"))
}

fn dropped(run: &Outcome) -> u64 {
    run.summary()["dropped_iterations"].as_u64().expect("dropped_iterations")
}

/// Users in each per-second sample of the Aggregated history.
fn users_over_time(run: &Outcome) -> Vec<u64> {
    let history = run.summary()["history"].as_array().expect("history");
    history
        .iter()
        .filter(|row| row["name"] == "Aggregated")
        .map(|row| row["users"].as_u64().unwrap_or(0))
        .collect()
}

fn assert_near(actual: u64, expected: u64, tolerance: f64) {
    let off = (actual as f64 - expected as f64).abs() / expected as f64;
    assert!(off <= tolerance, "{actual} is not within {}% of {expected}", tolerance * 100.0);
}

#[test]
fn a_rate_starts_its_iterations_whatever_the_users() {
    let server = TargetServer::start();
    let run = load("http-hammer", &server.url(), "--rate 300 -t 6s");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_near(server.count("GET", "/"), 1800, 0.03);
    assert_eq!(run.count("GET", "/"), server.count("GET", "/"));
    assert_eq!(dropped(&run), 0);
    assert!(run.stdout.contains("0 dropped iterations"), "{}", run.stdout);
    assert!(run.stdout.contains("timed from the actual send"), "{}", run.stdout);
    // Requests per minute work too: 120/m for 3 s is 6 iterations.
    let per_minute = load("http-hammer", &server.url(), "--rate 120/m -t 3s");
    assert_eq!(per_minute.count("GET", "/"), 6, "stderr: {}", per_minute.stderr);
}

#[test]
fn a_stall_shows_in_corrected_latency_but_not_in_the_uncorrected() {
    let server = TargetServer::start();
    let stall = Duration::from_secs(1);
    let run = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(2500));
            server.stall(stall);
        });
        // Two users and time to wait: iterations due in the stall queue
        // behind the two stuck users instead of being dropped.
        load("http-hammer", &server.url(), "--rate 300 -t 6s -u 2 --max-users 2 --max-delay 5s")
    });
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(dropped(&run), 0);
    assert_near(run.count("GET", "/"), 1800, 0.03);
    let stall_ms = stall.as_millis() as f64;
    let (corrected_p99, corrected_max) =
        (aggregated(&run, "times", "p99_ms"), aggregated(&run, "times", "max_ms"));
    let uncorrected_p99 = aggregated(&run, "uncorrected", "p99_ms");
    // The iterations due at the stall's start waited almost all of it.
    assert!(corrected_max >= stall_ms * 0.98, "corrected max {corrected_max} ms");
    assert!(corrected_p99 >= stall_ms * 0.9, "corrected p99 {corrected_p99} ms");
    // Only the two requests caught in flight saw it from the send.
    assert!(uncorrected_p99 < stall_ms * 0.2, "uncorrected p99 {uncorrected_p99} ms");
}

#[test]
fn iterations_without_a_free_user_are_dropped_and_counted() {
    let server = TargetServer::start();
    let flags = "--rate 300 -t 4s -u 1 --max-users 1 -e PATH=/slow/20 --max-delay 200ms";
    let run = load("http-hammer", &server.url(), flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let started = server.count("GET", "/slow/20");
    // One user answers ~50 of the 300 due each second; the rest drop.
    assert_eq!(started + dropped(&run), 1200, "started {started}, dropped {}", dropped(&run));
    assert!(dropped(&run) > 600, "dropped {}", dropped(&run));
    assert!(run.stdout.contains(&format!("{} dropped iterations", dropped(&run))));
    assert_eq!(run.summary()["users"], 1);
}

#[test]
fn user_stages_reach_each_target_and_end_the_run() {
    let server = TargetServer::start();
    let run = load("http-hammer", &server.url(), "--stages 1s:3,2s:3,1s:6,2s:6 -e WAIT_MS=100");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.summary()["users"], 6);
    // Stages have no moment when "all" users have started.
    assert!(run.summary().get("all_users_started_s").is_none());
    let users = users_over_time(&run);
    assert!(users.contains(&3) && users.contains(&6), "users per second: {users:?}");
    let first_six = users.iter().position(|&n| n == 6).expect("6 users");
    assert!(users[..first_six].contains(&3), "users per second: {users:?}");
    let duration = run.summary()["duration_s"].as_f64().unwrap_or(0.0);
    assert!(duration >= 6.0, "the stages last 6 s; the run lasted {duration} s");
}

#[test]
fn rate_stages_ramp_the_arrival_rate() {
    let server = TargetServer::start();
    // 0 → 100/s over 2 s (100 iterations), then 100/s for 2 s (200).
    let run = load("http-hammer", &server.url(), "--stages 2s:100/s,2s:100/s");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_near(server.count("GET", "/"), 300, 0.03);
    assert!(run.summary()["aggregated"]["uncorrected"].is_object());
}

#[test]
fn a_guest_shape_sets_users_or_rate_and_stops_the_run() {
    let server = TargetServer::start();
    let users = load("shaped", &server.url(), "-e SHAPE=users");
    assert_eq!(users.code, Some(0), "stderr: {}", users.stderr);
    assert_eq!(users.summary()["users"], 5);
    let over_time = users_over_time(&users);
    assert_eq!(over_time.first(), Some(&2), "users per second: {over_time:?}");
    assert!(over_time.contains(&5), "users per second: {over_time:?}");

    let rate = load("shaped", &server.url(), "-e SHAPE=rate");
    assert_eq!(rate.code, Some(0), "stderr: {}", rate.stderr);
    // 50/s for 2 s, then 100/s for 2 s; the shape is asked once a second.
    assert_near(rate.count("GET", "/shaped"), 300, 0.1);
    assert_eq!(dropped(&rate), 0);

    let overridden = load("shaped", &server.url(), "--rate 10 -t 1s");
    assert_eq!(overridden.code, Some(2));
    assert!(overridden.stderr.contains("load shape sets the load"), "{}", overridden.stderr);
}

#[test]
fn fixed_count_classes_spawn_first_and_exactly() {
    let server = TargetServer::start();
    let run = load("classes", &server.url(), "-u 5 -i 40 -e ADMINS=2");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(server.count("GET", "/start/admin"), 2);
    assert_eq!(server.count("GET", "/start/member"), 3);
}

#[test]
fn flags_beat_environment_variables_which_beat_the_config_file() {
    let server = TargetServer::start();
    let dir = std::env::temp_dir().join(format!("wasmload-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let component = guest("http-hammer");
    let file = format!(
        "component = {:?}\nhost = {:?}\nusers = 2\niterations = 30\n[param]\nPATH = \"/from-file\"\nWAIT_MS = \"10\"\n",
        component.display().to_string(),
        server.url()
    );
    std::fs::write(dir.join("wasmload.toml"), file).expect("writing wasmload.toml");

    let setting = |env| Setting { dir: Some(&dir), env };
    // wasmload.toml in the working directory is read by default.
    let from_file = run_wasmload_in(wasmload(), &["run"], &setting(&[]));
    assert_eq!(from_file.code, Some(0), "stderr: {}", from_file.stderr);
    assert_eq!(server.count("GET", "/from-file"), 30);
    assert_eq!(from_file.summary()["users"], 2);

    let env = [("WASMLOAD_ITERATIONS", "20"), ("WASMLOAD_USERS", "3")];
    let from_env = run_wasmload_in(wasmload(), &["run"], &setting(&env));
    assert_eq!(from_env.count("GET", "/from-file"), 20, "stderr: {}", from_env.stderr);
    assert_eq!(from_env.summary()["users"], 3);

    let flags = run_wasmload_in(wasmload(), &["run", "-i", "10"], &setting(&env));
    assert_eq!(flags.count("GET", "/from-file"), 10, "stderr: {}", flags.stderr);

    std::fs::write(dir.join("typo.toml"), "userz = 3\n").expect("writing typo.toml");
    let typo = run_wasmload_in(wasmload(), &["run", "--config", "typo.toml"], &setting(&[]));
    assert_eq!(typo.code, Some(2));
    assert!(typo.stderr.contains("`userz` is not an option"), "{}", typo.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_model_outputs_carry_both_times_and_the_drops() {
    let server = TargetServer::start();
    let dir = std::env::temp_dir().join(format!("wasmload-open-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let prefix = dir.join("run").display().to_string();
    let html = dir.join("report.html").display().to_string();
    let flags = format!("--rate 50 -t 2s --csv {prefix} --html {html}");
    let run = load("http-hammer", &server.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let read = |suffix: &str| std::fs::read_to_string(format!("{prefix}{suffix}")).expect(suffix);
    assert!(read("_stats_uncorrected.csv").contains("Aggregated"));
    let run_csv = read("_run.csv");
    assert!(run_csv.starts_with("User Count,Duration,"), "{run_csv}");
    assert!(run_csv.lines().nth(1).is_some_and(|row| row.ends_with(",0")), "{run_csv}");
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    // The page carries the drops and the rows timed from the send.
    assert!(page.contains(r#""dropped_iterations":0"#), "no dropped iterations in the page");
    assert!(page.contains(r#""uncorrected":[{"#), "no uncorrected rows in the page");
    let uncorrected: &Value = &run.summary()["aggregated"]["uncorrected"];
    assert!(uncorrected["histogram"].as_str().is_some_and(|h| !h.is_empty()), "{uncorrected}");
    let _ = std::fs::remove_dir_all(&dir);
}
