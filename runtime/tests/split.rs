//! A test split in segments, over worker processes, or over machines with
//! a collector: the segments together are exactly the whole test, the
//! merged result is exactly what the target served, and a lost segment is
//! named and fails the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wasmload_testkit::{get_json, guest, run_wasmload, Nginx, Outcome, TargetServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

/// What a target saw, by path: `/user/ID/CLASS` once per user started.
type Seen = BTreeMap<String, u64>;

fn seen(target: &TargetServer) -> Seen {
    target.counts().into_iter().map(|((_, path), count)| (path, count)).collect()
}

/// Requests whose path starts with `prefix`.
fn total(seen: &Seen, prefix: &str) -> u64 {
    seen.iter().filter(|(path, _)| path.starts_with(prefix)).map(|(_, count)| count).sum()
}

/// The users that started, as `/user/...` paths.
fn users(seen: &Seen) -> Vec<&str> {
    seen.keys().filter(|path| path.starts_with("/user/")).map(String::as_str).collect()
}

/// Runs `guest` with `flags` once whole, against a target of its own, and
/// as `segments` segments side by side against one shared target; gives
/// what each target saw.
fn whole_and_segments(guest_name: &str, flags: &str, segments: u32) -> (Seen, Seen) {
    let (whole_target, split_target) = (TargetServer::start(), TargetServer::start());
    let component = guest(guest_name);
    let run = |target: &TargetServer, extra: String| {
        let url = target.url();
        let component = component.clone();
        let flags = format!("{flags} {extra}");
        std::thread::spawn(move || {
            let mut args = vec!["run", component.to_str().unwrap_or_default(), "--host", &url];
            args.extend(flags.split_whitespace());
            run_wasmload(wasmload(), &args)
        })
    };
    let whole = run(&whole_target, String::new());
    let parts: Vec<_> = (0..segments)
        .map(|index| run(&split_target, format!("--segment {index}/{segments}")))
        .collect();
    for outcome in parts.into_iter().chain([whole]).map(|run| run.join().expect("a run")) {
        assert_eq!(outcome.code, Some(0), "stderr: {}", outcome.stderr);
    }
    (seen(&whole_target), seen(&split_target))
}

#[test]
fn segments_of_the_closed_model_are_the_whole_users_and_iterations() {
    // Tasks wait 50 ms so the iterations outlast every user's start: a
    // user starting after the last iteration never starts.
    let (whole, split) = whole_and_segments("segments", "-u 7 -i 60 -e FIXED=2 -e WAIT_MS=50", 3);
    // The same users, by id and class: fixed ones first, then a, b, b, ...
    assert_eq!(users(&whole), users(&split));
    assert_eq!(users(&whole).len(), 7, "{whole:?}");
    assert_eq!(whole.get("/user/0/fixed"), Some(&1), "{whole:?}");
    // --iterations is shared out, not multiplied.
    assert_eq!(total(&whole, "/task/"), 60);
    assert_eq!(total(&split, "/task/"), 60);
}

#[test]
fn segments_of_stages_and_shapes_start_the_whole_users() {
    let (whole, split) = whole_and_segments("segments", "--stages 1s:6,1s:6,1s:0 -e WAIT_MS=50", 4);
    assert_eq!(users(&whole), users(&split));
    assert_eq!(users(&whole).len(), 6, "{whole:?}");

    // A shape of 2, then 5 users.
    let (whole, split) = whole_and_segments("shaped", "-e SHAPE=users", 3);
    assert_eq!(users(&whole), users(&split));
    assert_eq!(users(&whole).len(), 5, "{whole:?}");
}

#[test]
fn segments_of_the_open_model_are_the_whole_arrivals() {
    // 40 iterations a second for 2 s: exactly 80, numbered over the whole test.
    let (whole, split) = whole_and_segments("segments", "--rate 40 -t 2s -u 2 --max-users 20", 3);
    assert_eq!(total(&whole, "/task/"), 80);
    assert_eq!(total(&split, "/task/"), 80);
    // Pools grow as each segment needs, but user ids never repeat.
    assert!(split.iter().filter(|(path, _)| path.starts_with("/user/")).all(|(_, n)| *n == 1));

    let (whole, split) = whole_and_segments("segments", "--rate 100 -i 50 -u 3", 4);
    assert_eq!(total(&whole, "/task/"), 50);
    assert_eq!(total(&split, "/task/"), 50);
}

/// `wasmload run ... --processes N` started in the background.
fn spawn_run(args: &[&str], json: &Path) -> Child {
    Command::new(wasmload())
        .arg("run")
        .args(args)
        .arg("--json")
        .arg(json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting wasmload")
}

/// Waits for `child` and gives (exit code, stdout, stderr, summary).
fn outcome(child: Child, json: &Path) -> Outcome {
    let output = child.wait_with_output().expect("waiting for wasmload");
    let summary =
        std::fs::read_to_string(json).ok().and_then(|text| serde_json::from_str(&text).ok());
    let _ = std::fs::remove_file(json);
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        summary,
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("wasmload-split-{}-{name}", std::process::id()))
}

#[test]
fn worker_processes_record_exactly_what_nginx_served() {
    let nginx = Nginx::start(2);
    let hammer = guest("http-hammer");
    let json = scratch("processes.json");
    let args =
        [hammer.to_str().unwrap_or_default(), "--host", &nginx.url(), "-u", "40", "-t", "4s"];
    let flags = ["-e", "WAIT_MS=5", "--processes", "4", "--threshold", "fail_ratio<0.01"];
    let child = spawn_run(&[&args[..], &flags[..]].concat(), &json);
    let run = outcome(child, &json);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("4 worker processes"), "{}", run.stderr);
    let recorded = run.count("GET", "/");
    assert!(recorded > 1000, "{recorded} requests");
    assert_eq!(recorded, nginx.count("GET", "/"), "every request nginx logged, and no other");
    let summary = run.summary();
    assert_eq!(summary["users"], 40);
    assert_eq!(summary["totals"]["failures"], 0);
    // One merged history, a row a second, ending where the totals do.
    let history = summary["history"].as_array().cloned().unwrap_or_default();
    assert!(history.len() >= 3, "{} history rows", history.len());
    let last = history.iter().rev().find(|row| row["name"] == "Aggregated");
    assert_eq!(last.map(|row| row["total_requests"].clone()), Some(recorded.into()));
    assert!(run.stdout.contains("held   fail_ratio<0.01"), "{}", run.stdout);
}

#[test]
fn a_killed_worker_is_named_and_fails_the_run() {
    let target = TargetServer::start();
    let hammer = guest("http-hammer");
    let json = scratch("killed.json");
    let args =
        [hammer.to_str().unwrap_or_default(), "--host", &target.url(), "-u", "30", "-t", "6s"];
    let child = spawn_run(&[&args[..], &["-e", "WAIT_MS=5", "--processes", "3"]].concat(), &json);
    // Find the worker of segment 1 among the run's children, and kill it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let worker = loop {
        assert!(Instant::now() < deadline, "no worker of segment 1/3 appeared");
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
            .unwrap_or_default();
        let found = children.split_whitespace().find(|pid| {
            let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&command).contains("--segment=1/3")
        });
        if let Some(pid) = found {
            break pid.to_owned();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(3));
    let killed = Command::new("kill").args(["-9", &worker]).status().expect("running kill");
    assert!(killed.success());
    let run = outcome(child, &json);
    assert_eq!(run.code, Some(1), "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "1 of 3 segments were lost (segment 1/3: worker 1 was killed by signal 9 (SIGKILL)"
        ),
        "{}",
        run.stderr
    );
    let lost = &run.summary()["lost_segments"];
    assert_eq!(lost[0]["segment"], "1/3", "{lost}");
    // The other segments' requests, and what the lost one sent before, are kept.
    let recorded = run.count("GET", "/");
    let served = target.count("GET", "/");
    assert!(recorded > 0 && recorded <= served, "{recorded} recorded, {served} served");
    assert!(run.stdout.contains("Lost segments"), "{}", run.stdout);
}

/// Waits until the collector at `url` says segment `segment` is `state`.
fn wait_until(url: &str, segment: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let states = get_json(&format!("{url}/v1/segments")).unwrap_or_default();
        let states = states.as_array().cloned().unwrap_or_default();
        if states.iter().any(|part| part["segment"] == segment && part["state"] == state) {
            return;
        }
        assert!(Instant::now() < deadline, "segment {segment} is not {state}: {states:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `wasmload collect` of `segments` segments on a free loopback port,
/// writing its summary to `json`; gives it and its URL.
fn spawn_collector(segments: u32, json: &Path) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let collector = Command::new(wasmload())
        .args(["collect", "--segments", &segments.to_string()])
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg("--json")
        .arg(json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the collector");
    (collector, format!("http://127.0.0.1:{port}"))
}

#[test]
fn a_collector_starts_workers_together_and_judges_the_whole() {
    let target = TargetServer::start();
    let hammer = guest("http-hammer");
    let collected = scratch("collected.json");
    let (collector, collector_url) = spawn_collector(3, &collected);
    let worker = |index: u32, users: &str| {
        let json = scratch(&format!("worker-{index}-{users}.json"));
        let segment = format!("{index}/3");
        let args = [
            hammer.to_str().unwrap_or_default(),
            "--host",
            &target.url(),
            "-u",
            users,
            "-t",
            "3s",
            "-e",
            "WAIT_MS=5",
            "--threshold",
            "rps<1",
            "--segment",
            &segment,
            "--collector",
            &collector_url,
        ];
        (Instant::now(), spawn_run(&args, &json), json)
    };
    // Workers start a second apart (the first before the collector
    // listens), yet run at one instant; one running another test is turned away.
    let first = worker(0, "9");
    wait_until(&collector_url, "0/3", "ready");
    let (_, stranger, stranger_json) = worker(2, "10");
    let refused = outcome(stranger, &stranger_json);
    assert_eq!(refused.code, Some(2), "stderr: {}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("runs another test than this collector's: `users` is 9 here, 10 there"),
        "{}",
        refused.stderr
    );
    let second = worker(1, "9");
    std::thread::sleep(Duration::from_secs(1));
    let third = worker(2, "9");
    let mut worker_summaries = Vec::new();
    for (started, child, json) in [first, second, third] {
        let run = outcome(child, &json);
        assert_eq!(run.code, Some(0), "a worker only reports; stderr: {}", run.stderr);
        worker_summaries.push((started.elapsed(), run));
    }
    // The first worker waited for the last before its 3 s began.
    assert!(worker_summaries[0].0 >= Duration::from_secs(5), "{:?}", worker_summaries[0].0);
    let run = outcome(collector, &collected);
    assert_eq!(run.code, Some(99), "the whole test's rps fails rps<1; stderr: {}", run.stderr);
    assert!(run.stdout.contains("FAILED rps<1"), "{}", run.stdout);
    let parts: u64 = worker_summaries.iter().map(|(_, run)| run.count("GET", "/")).sum();
    assert_eq!(run.count("GET", "/"), target.count("GET", "/"));
    assert_eq!(run.count("GET", "/"), parts, "the collector's figure is its workers' sum");
    assert_eq!(run.summary()["users"], 9);
    let durations: Vec<f64> = worker_summaries
        .iter()
        .map(|(_, run)| run.summary()["duration_s"].as_f64().unwrap_or_default())
        .collect();
    assert!(durations.iter().all(|seconds| (2.9..4.0).contains(seconds)), "{durations:?}");
}

#[test]
fn a_segment_reads_like_its_flag() {
    let target = TargetServer::start();
    let component = guest("http-hammer");
    let path = component.to_str().unwrap_or_default();
    for (segment, error) in [
        ("3/3", "segments count from 0, so the last of 3 is 2"),
        ("1", "is not a segment like 0/4"),
    ] {
        let run =
            run_wasmload(wasmload(), &["run", path, "--host", &target.url(), "--segment", segment]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains(error), "{}", run.stderr);
    }
    let run = run_wasmload(wasmload(), &["run", path, "--collector", "http://127.0.0.1:1/"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--segment"), "{}", run.stderr);
    let run = run_wasmload(wasmload(), &["run", path, "--local-ips", "192.0.2.7"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--local-ips: 192.0.2.7 is not an address of this machine"),
        "{}",
        run.stderr
    );
}

#[test]
fn local_ips_spread_the_users_connections() {
    let nginx = Nginx::start(1);
    let hammer = guest("http-hammer");
    let path = hammer.to_str().unwrap_or_default();
    let flags = ["-u", "4", "-i", "400", "--local-ips", "127.0.0.1-127.0.0.3,127.0.0.9"];
    let run =
        run_wasmload(wasmload(), &[&["run", path, "--host", &nginx.url()][..], &flags].concat());
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let clients = nginx.by_client();
    let mut addresses: Vec<&str> = clients.keys().map(String::as_str).collect();
    addresses.sort_unstable();
    assert_eq!(addresses, ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.9"], "{clients:?}");
    assert_eq!(clients.values().sum::<u64>(), 400);

    let refused = run_wasmload(wasmload(), &["run", path, "--local-ips", "127.0.0.9-127.0.0.1"]);
    assert_eq!(refused.code, Some(2));
    assert!(refused.stderr.contains("from the lower address to the higher"), "{}", refused.stderr);
}

#[test]
fn a_worker_stopped_on_its_machine_fails_the_whole_test() {
    let target = TargetServer::start();
    let hammer = guest("http-hammer");
    let json = scratch("stopped.json");
    let (collector, url) = spawn_collector(2, &json);
    let workers: Vec<Child> = (0..2)
        .map(|index| {
            let segment = format!("{index}/2");
            let args = [hammer.to_str().unwrap_or_default(), "--host", &target.url(), "-u", "4"];
            let rest = ["-t", "8s", "-e", "WAIT_MS=5", "--segment", &segment, "--collector", &url];
            let worker_json = scratch(&format!("stopped-{index}.json"));
            spawn_run(&[&args[..], &rest].concat(), &worker_json)
        })
        .collect();
    wait_until(&url, "1/2", "running");
    std::thread::sleep(Duration::from_secs(2));
    // As Kubernetes evicts a pod: SIGTERM, then the worker stops gracefully.
    let sent = Command::new("kill").args(["-TERM", &workers[1].id().to_string()]).status();
    assert!(sent.is_ok_and(|status| status.success()));
    for worker in workers {
        let output = worker.wait_with_output().expect("a worker");
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let run = outcome(collector, &json);
    assert_eq!(run.code, Some(1), "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("1 of 2 segments were lost (segment 1/2: stopped on its own machine"),
        "{}",
        run.stderr
    );
    // What it ran before the signal is counted, exactly.
    assert_eq!(run.count("GET", "/"), target.count("GET", "/"));
}

#[test]
fn a_test_splits_in_no_more_segments_than_users() {
    let target = TargetServer::start();
    let path = guest("http-hammer");
    let path = path.to_str().unwrap_or_default();
    for flags in
        [["-u", "1", "-i", "10", "--processes", "2"], ["-u", "3", "-i", "10", "--segment", "0/4"]]
    {
        let run = run_wasmload(
            wasmload(),
            &[&["run", path, "--host", &target.url()][..], &flags].concat(),
        );
        assert_eq!(run.code, Some(2), "{flags:?}: {}", run.stderr);
        assert!(run.stderr.contains("cannot be split in"), "{}", run.stderr);
    }
    let open = ["--rate", "20", "-t", "1s", "--max-users", "1", "--processes", "2"];
    let run =
        run_wasmload(wasmload(), &[&["run", path, "--host", &target.url()][..], &open].concat());
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("a test of 1 users cannot be split in 2 segments"),
        "{}",
        run.stderr
    );
}
