//! `wasmload serve`: real servers, real targets, two tenants side by side,
//! one of them hostile.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasmload_testkit::serve::ADMIN;
use wasmload_testkit::{guest, run_wasmload, ServeProcess, TargetServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

fn count(summary: &Value, kind: &str, name: &str) -> u64 {
    summary["requests"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["type"] == kind && row["name"] == name))
        .map_or(0, |row| row["count"].as_u64().unwrap_or(0))
}

fn task_errors(summary: &Value) -> String {
    summary["task_errors"].to_string()
}

/// Quotas that let a tenant's runs reach the test targets on loopback.
fn loopback(extra: Value) -> Value {
    let mut quotas = json!({"allow-host": ["127.0.0.1"], "concurrent-runs": 10});
    if let (Some(quotas), Value::Object(extra)) = (quotas.as_object_mut(), extra) {
        quotas.extend(extra);
    }
    quotas
}

#[test]
fn a_hostile_tenant_harms_only_its_own_results() {
    let server = ServeProcess::start(wasmload(), &["--max-users", "200"]);
    let target_b = TargetServer::start();
    let a = server.tenant("a", loopback(json!({})));
    let b = server.tenant("b", loopback(json!({})));
    let hostile = server.upload(Some(&a), &guest("hostile"));
    let hammer = server.upload(Some(&b), &guest("http-hammer"));

    let steady = server.start_run(
        Some(&b),
        json!({"component": hammer, "users": 10, "run-time": "6s", "host": target_b.url(),
               "param": {"WAIT_MS": "5"}, "threshold": ["fail_ratio<0.001"]}),
    );
    let modes = [
        ("every-3", json!({})),
        ("loop", json!({"task-timeout": "300ms"})),
        ("bomb", json!({"max-memory": "32MiB"})),
        ("names", json!({"max-names": 100})),
        ("hoard", json!({"max-resources": 200})),
        ("connections", json!({"max-user-connections": 8})),
        ("log-flood", json!({})),
        ("forbidden", json!({})),
    ];
    let targets_a: Vec<TargetServer> = modes.iter().map(|_| TargetServer::start()).collect();
    let mut hostile_runs = Vec::new();
    for ((mode, options), target) in modes.iter().zip(&targets_a) {
        let mut run = json!({"component": hostile, "users": 3, "run-time": "5s",
                             "host": target.url(), "param": {"MODE": mode}});
        if let (Some(run), Value::Object(options)) = (run.as_object_mut(), options.clone()) {
            run.extend(options);
        }
        hostile_runs.push((*mode, server.start_run(Some(&a), run)));
    }

    // While they go, the server answers at once and stays within its memory.
    let mut peak_kib = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let asked = Instant::now();
        let health = server.call("GET", "/v1/health", None, None);
        assert_eq!(health.status, 200);
        assert!(asked.elapsed() < Duration::from_secs(1), "health took {:?}", asked.elapsed());
        peak_kib = peak_kib.max(server.resident_kib());
        std::thread::sleep(Duration::from_millis(200));
    }

    let ended = server.wait_for_end(Some(&b), &steady, Duration::from_secs(120));
    assert_eq!(
        (ended["state"].as_str(), ended["exit_code"].as_i64()),
        (Some("finished"), Some(0)),
        "{ended}"
    );
    let summary = server.summary(Some(&b), &steady);
    let requests = count(&summary, "GET", "/");
    assert!(requests > 1000, "{requests} requests");
    assert_eq!(target_b.count("GET", "/"), requests, "B's target saw exactly B's requests");
    assert_eq!(summary["totals"]["failures"], 0, "{}", summary["errors"]);
    assert_eq!(summary["task_errors"], json!([]));

    for (mode, id) in &hostile_runs {
        let ended = server.wait_for_end(Some(&a), id, Duration::from_secs(60));
        assert_eq!(ended["state"], "finished", "{mode}: {ended}");
        let summary = server.summary(Some(&a), id);
        let errors = task_errors(&summary);
        let failures = summary["errors"].to_string();
        match *mode {
            "every-3" => {
                assert!(
                    errors.contains("unreachable") && errors.contains("hostile::Hostile::work"),
                    "{errors}"
                );
                // The panic's own message is in the run's log, not the server's.
                let log = server.call("GET", &format!("/v1/runs/{id}/log"), Some(&a), None).text;
                assert!(log.contains("panicked at") && log.contains("third task"), "{log}");
            }
            "loop" => {
                assert!(errors.contains("ran longer than 300ms (--task-timeout)"), "{errors}")
            }
            "bomb" => assert!(errors.contains("forcing trap when growing memory"), "{errors}"),
            "names" => {
                let rows = summary["requests"].as_array().map_or(0, Vec::len);
                assert!(rows <= 101, "{mode}: {rows} rows");
                assert!(count(&summary, "*", "(names past --max-names 100)") > 0);
            }
            "hoard" => assert!(errors.contains("all --max-resources allows"), "{errors}"),
            "connections" => assert!(failures.contains("--max-user-connections"), "{failures}"),
            "log-flood" => assert!(summary["log_dropped_bytes"].as_u64().unwrap() > 0),
            "forbidden" => assert!(failures.contains("is not an allowed host"), "{failures}"),
            _ => unreachable!(),
        }
    }
    // Every GET /a the well-behaved users of each of A's runs made reached
    // that run's own target, and none reached B's.
    for ((mode, id), target) in hostile_runs.iter().zip(&targets_a) {
        let summary = server.summary(Some(&a), id);
        let answered = count(&summary, "GET", "/a") - failures_of(&summary, "GET", "/a");
        if *mode == "names" {
            // The flood may take the name budget before `GET /a` is first
            // seen; then those requests are in the overflow row too.
            assert!(answered <= target.count("GET", "/a"), "{mode}");
        } else {
            assert_eq!(answered, target.count("GET", "/a"), "{mode}");
        }
    }
    assert_eq!(target_b.count("GET", "/a"), 0);
    // The memory bomb is capped per user, not per server: 1 GiB is ample.
    assert!(peak_kib < 1 << 20, "the server peaked at {peak_kib} KiB");
    eprintln!("serve peaked at {} MiB resident", peak_kib / 1024);
}

fn failures_of(summary: &Value, kind: &str, name: &str) -> u64 {
    summary["requests"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["type"] == kind && row["name"] == name))
        .map_or(0, |row| row["failures"].as_u64().unwrap_or(0))
}

#[test]
fn refusals_have_their_status_and_reason() {
    let server = ServeProcess::start(wasmload(), &["--max-users", "100"]);
    let target = TargetServer::start();
    let a = server.tenant(
        "a",
        loopback(json!({"users": 20, "component-size": 200_000, "concurrent-runs": 1})),
    );
    let b = server.tenant("b", json!({}));
    let hammer = server.upload(Some(&a), &guest("http-hammer"));
    let refused = |answer: wasmload_testkit::serve::Answer, status: u16, reason: &str| {
        assert_eq!(answer.status, status, "{}", answer.text);
        assert!(answer.error().contains(reason), "{:?} lacks {reason:?}", answer.error());
        assert!(!answer.error().contains('\n'), "one line: {:?}", answer.error());
    };
    let run = |token: &str, options: Value| {
        let mut body = json!({"component": hammer, "host": target.url(), "run-time": "2s"});
        if let (Some(body), Value::Object(options)) = (body.as_object_mut(), options) {
            body.extend(options);
        }
        server.json("POST", "/v1/runs", Some(token), &body)
    };

    refused(server.call("GET", "/v1/runs", None, None), 401, "needs a tenant's token");
    refused(server.call("GET", "/v1/runs", Some("wl_nope"), None), 401, "unknown token");
    refused(server.call("GET", "/v1/runs", Some(ADMIN), None), 403, "admin token manages tenants");
    refused(server.call("GET", "/v1/tenants", Some(&a), None), 403, "needs the admin token");
    refused(server.json("POST", "/v1/tenants", Some(ADMIN), &json!({"name": "a"})), 409, "exists");
    refused(
        server.json("POST", "/v1/tenants", Some(ADMIN), &json!({"name": "bad name!"})),
        400,
        "not a tenant name",
    );
    refused(
        server.json(
            "POST",
            "/v1/tenants",
            Some(ADMIN),
            &json!({"name": "c", "quotas": {"users": 1000}}),
        ),
        400,
        "above the server's --max-users 100",
    );

    refused(run(&a, json!({"users": "many"})), 400, "invalid value 'many' for `users`");
    refused(run(&a, json!({"userz": 1})), 400, "`userz` is not a run option");
    refused(run(&a, json!({"json": "out.json"})), 400, "`json` is not a run option");
    refused(server.json("POST", "/v1/runs", Some(&a), &json!({"users": 1})), 400, "component");
    refused(
        server.call("POST", "/v1/runs", Some(&a), Some(("application/json", b"{".to_vec()))),
        400,
        "",
    );
    refused(run(&a, json!({"users": 21})), 429, "users 21 is above this tenant's quota of 20");
    refused(run(&a, json!({"run-time": "2h"})), 429, "run-time 2h is above");
    refused(run(&a, json!({"insecure": true})), 403, "quota insecure");
    refused(run(&a, json!({"host": "http://10.9.8.7:80"})), 403, "host `10.9.8.7` is not allowed");
    refused(run(&a, json!({"allow-host": ["192.168.0.0/16"]})), 403, "quota allow-host");
    // B may target public addresses only: loopback is refused.
    let b_hammer = server.upload(Some(&b), &guest("http-hammer"));
    refused(
        server.json(
            "POST",
            "/v1/runs",
            Some(&b),
            &json!({"component": b_hammer, "host": target.url()}),
        ),
        403,
        "public addresses only",
    );

    // Another tenant's things do not exist for B.
    let first = run(&a, json!({"users": 2, "param": {"WAIT_MS": "50"}}));
    assert_eq!(first.status, 201, "{}", first.text);
    let id = first.body["id"].as_str().unwrap().to_owned();
    refused(server.call("GET", &format!("/v1/runs/{id}"), Some(&b), None), 404, "no run");
    refused(
        server.call("GET", &format!("/v1/runs/{id}/report.json"), Some(&b), None),
        404,
        "no run",
    );
    refused(server.call("POST", &format!("/v1/runs/{id}/stop"), Some(&b), None), 404, "no run");
    let only_a = server.upload(Some(&a), &guest("hostile"));
    refused(
        server.call("GET", &format!("/v1/components/{only_a}"), Some(&b), None),
        404,
        "no component",
    );
    refused(
        server.json("POST", "/v1/runs", Some(&b), &json!({"component": only_a})),
        404,
        "no component",
    );
    // One run at a time for A.
    refused(run(&a, json!({})), 429, "concurrent-runs quota");
    refused(server.call("DELETE", &format!("/v1/runs/{id}"), Some(&a), None), 409, "stop it first");
    server.wait_for_end(Some(&a), &id, Duration::from_secs(30));
    refused(server.call("POST", &format!("/v1/runs/{id}/stop"), Some(&a), None), 409, "has ended");
    assert_eq!(server.call("DELETE", &format!("/v1/runs/{id}"), Some(&a), None).status, 204);
    refused(server.call("GET", &format!("/v1/runs/{id}"), Some(&a), None), 404, "no run");

    // Components: not wasm, a core module, too large.
    let upload = |bytes: Vec<u8>| {
        server.call("POST", "/v1/components", Some(&a), Some(("application/wasm", bytes)))
    };
    refused(upload(b"hello".to_vec()), 400, "not a WebAssembly file");
    refused(upload(b"\0asm\x01\0\0\0".to_vec()), 400, "core WebAssembly module");
    refused(upload(vec![0; 300_000]), 413, "component-size quota of 200000 bytes");
    refused(server.call("GET", "/v1/nowhere", Some(&a), None), 404, "no such path");
}

#[test]
fn a_restart_or_a_kill_loses_no_finished_run() {
    let mut server = ServeProcess::start(wasmload(), &[]);
    let target = TargetServer::start();
    let token = server.tenant("a", loopback(json!({})));
    let hammer = server.upload(Some(&token), &guest("http-hammer"));
    let done = server.start_run(
        Some(&token),
        json!({"component": hammer, "users": 2, "iterations": 200, "host": target.url()}),
    );
    server.wait_for_end(Some(&token), &done, Duration::from_secs(30));
    let long = server.start_run(
        Some(&token),
        json!({"component": hammer, "users": 2, "run-time": "2m", "host": target.url(), "param": {"WAIT_MS": "20"}}),
    );
    // Past the first checkpoint (every 5 s).
    std::thread::sleep(Duration::from_secs(7));
    server.restart_after("KILL");

    let finished = server.call("GET", &format!("/v1/runs/{done}"), Some(&token), None).body;
    assert_eq!(finished["state"], "finished", "{finished}");
    assert_eq!(count(&server.summary(Some(&token), &done), "GET", "/"), 200);
    let interrupted = server.call("GET", &format!("/v1/runs/{long}"), Some(&token), None).body;
    assert_eq!(interrupted["state"], "interrupted", "{interrupted}");
    let checkpoint = server.summary(Some(&token), &long);
    let kept = count(&checkpoint, "GET", "/");
    assert!(kept > 100 && kept <= target.count("GET", "/") - 200, "{kept} requests kept");

    // A graceful stop keeps a fresh checkpoint too.
    let again = server.start_run(
        Some(&token),
        json!({"component": hammer, "users": 2, "run-time": "2m", "host": target.url(), "param": {"WAIT_MS": "20"}}),
    );
    std::thread::sleep(Duration::from_secs(2));
    server.restart_after("TERM");
    let stopped = server.call("GET", &format!("/v1/runs/{again}"), Some(&token), None).body;
    assert_eq!(stopped["state"], "interrupted", "{stopped}");
    assert!(count(&server.summary(Some(&token), &again), "GET", "/") > 0);
}

#[test]
fn queued_runs_start_fairly_as_capacity_frees() {
    // Room for two runs of 5 users (each holds one more instance for its shape check).
    let server = ServeProcess::start(wasmload(), &["--max-users", "12"]);
    let target = TargetServer::start();
    let a = server.tenant("a", loopback(json!({})));
    let b = server.tenant("b", loopback(json!({})));
    let (hammer_a, hammer_b) = (
        server.upload(Some(&a), &guest("http-hammer")),
        server.upload(Some(&b), &guest("http-hammer")),
    );
    let run = |token: &str, component: &str, seconds: u64| {
        server.start_run(
            Some(token),
            json!({"component": component, "users": 5, "run-time": format!("{seconds}s"),
                   "host": target.url(), "param": {"WAIT_MS": "20"}}),
        )
    };
    let a1 = run(&a, &hammer_a, 2);
    let a2 = run(&a, &hammer_a, 6);
    let a3 = run(&a, &hammer_a, 1);
    let b1 = run(&b, &hammer_b, 1);
    std::thread::sleep(Duration::from_millis(500));
    let state = |token: &str, id: &str| {
        server.call("GET", &format!("/v1/runs/{id}"), Some(token), None).body
    };
    assert_eq!(state(&a, &a3)["state"], "queued");
    assert_eq!(state(&b, &b1)["state"], "queued");
    for id in [&a1, &a2, &a3] {
        server.wait_for_end(Some(&a), id, Duration::from_secs(60));
    }
    server.wait_for_end(Some(&b), &b1, Duration::from_secs(60));
    // When a1 ended, B (using nothing) went before A's third run.
    let started = |token: &str, id: &str| state(token, id)["started_at"].as_i64().unwrap();
    assert!(started(&b, &b1) <= started(&a, &a3), "B waited behind A's queue");
    let summary = server.summary(Some(&b), &b1);
    assert!(count(&summary, "GET", "/") > 0);
}

#[test]
fn submit_exits_as_run_does_and_writes_the_reports_here() {
    let server = ServeProcess::start(wasmload(), &[]);
    let target = TargetServer::start();
    let dir = std::env::temp_dir().join(format!("wasmload-submit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_path = dir.join("summary.json");
    let hammer = guest("http-hammer");
    let host = target.url();
    let submit = |extra: &[&str]| {
        let mut args = vec![
            "submit",
            hammer.to_str().unwrap(),
            "--server",
            server.url(),
            "--host",
            &host,
            "-u",
            "2",
            "-i",
            "100",
            "--json",
            json_path.to_str().unwrap(),
        ];
        args.extend(extra);
        run_wasmload(wasmload(), &args)
    };
    // No tenants yet, on loopback: no token needed.
    let passed = submit(&["--threshold", "fail_ratio<0.01"]);
    assert_eq!(passed.code, Some(0), "{}", passed.stderr);
    assert!(
        passed.stdout.contains("Aggregated") && passed.stdout.contains("held"),
        "{}",
        passed.stdout
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(count(&summary, "GET", "/"), 100);
    assert_eq!(target.count("GET", "/"), 100);

    let failed = submit(&["--threshold", "p50<0.001ms"]);
    assert_eq!(failed.code, Some(99), "{}", failed.stderr);
    assert!(failed.stderr.contains("1 of 1 thresholds failed"), "{}", failed.stderr);

    let bad = submit(&["--max-names", "0"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    let token = server.tenant("x", json!({}));
    let unknown = submit(&["--token", "wl_wrong"]);
    assert_eq!(unknown.code, Some(2), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("unknown token"), "{}", unknown.stderr);
    // With tenants made, the local tenant is gone: a token is needed.
    let anonymous = submit(&[]);
    assert_eq!(anonymous.code, Some(2), "{}", anonymous.stderr);
    assert!(anonymous.stderr.contains("needs a tenant's token"), "{}", anonymous.stderr);
    // x may target public addresses only.
    let forbidden = submit(&["--token", &token]);
    assert_eq!(forbidden.code, Some(2), "{}", forbidden.stderr);
    assert!(
        forbidden.stderr.contains("(403): host `127.0.0.1` is not allowed"),
        "{}",
        forbidden.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_live_view_streams_snapshots_then_the_end() {
    let server = ServeProcess::start(wasmload(), &[]);
    let target = TargetServer::start();
    let hammer = server.upload(None, &guest("http-hammer"));
    let id = server.start_run(
        None,
        json!({"component": hammer, "users": 3, "run-time": "3s", "host": target.url(), "param": {"WAIT_MS": "10"}}),
    );
    let events = server.live_events(None, &id);
    let snapshots: Vec<&Value> =
        events.iter().filter(|(kind, _)| kind == "snapshot").map(|(_, data)| data).collect();
    assert!(snapshots.len() >= 3, "{events:?}");
    assert!(snapshots.iter().any(|snapshot| snapshot["users"] == 3), "{snapshots:?}");
    let (kind, end) = events.last().unwrap();
    assert_eq!(kind, "end");
    assert_eq!((end["state"].as_str(), end["exit_code"].as_i64()), (Some("finished"), Some(0)));
    let requests = end["totals"]["requests"].as_u64().unwrap();
    assert_eq!(requests, target.count("GET", "/"));
    let last = snapshots.last().unwrap();
    assert_eq!(last["requests"], requests, "the last snapshot holds every request");
    for file in ["stats.csv", "failures.csv", "stats_history.csv", "run.csv"] {
        let csv = server.call("GET", &format!("/v1/runs/{id}/csv/{file}"), None, None);
        assert_eq!(csv.status, 200, "{file}: {}", csv.text);
    }
    let stats = server.call("GET", &format!("/v1/runs/{id}/csv/stats.csv"), None, None).text;
    assert!(stats.starts_with("Type,Name,Request Count"), "{stats}");
    let html = server.call("GET", &format!("/v1/runs/{id}/report.html"), None, None);
    assert!(
        html.text.contains("id=\"report-data\"") && html.text.contains("uPlot"),
        "the report carries its data and its charts"
    );
}
