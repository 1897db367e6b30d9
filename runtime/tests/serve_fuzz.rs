//! The service's API fuzzed from its own OpenAPI document by schemathesis
//! (PyPI, from scripts/test-tools.sh), as the admin and as a tenant: no
//! answer may be a server error, and none may hang.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmload_testkit::serve::ADMIN;
use wasmload_testkit::{guest, ServeProcess};

fn schemathesis() -> PathBuf {
    let tools = std::env::var_os("WASMLOAD_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/wasmload-tools")
    });
    tools.join("schemathesis/bin/schemathesis")
}

#[test]
fn fuzzing_the_api_finds_no_server_error_and_no_hang() {
    let server =
        ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_wasmload")), &["--max-users", "50"]);
    let token =
        server.tenant("fuzz", json!({"users": 10, "run-time": "5s", "allow-host": ["127.0.0.1"]}));
    // Something to find: a component, and a run of it that cannot reach its host.
    let digest = server.upload(Some(&token), &guest("http-hammer"));
    server.start_run(
        Some(&token),
        json!({"component": digest, "users": 1, "run-time": "1s", "host": "http://127.0.0.1:9"}),
    );
    // Its reports and its cache (.schemathesis/) go here, not into the repository.
    let scratch = std::env::temp_dir().join(format!("schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    for (who, bearer) in [("tenant", token.as_str()), ("admin", ADMIN)] {
        let started = Instant::now();
        let output = Command::new(schemathesis())
            .current_dir(&scratch)
            .arg("run")
            .arg(format!("{}/v1/openapi.json", server.url()))
            .args(["--header", &format!("Authorization: Bearer {bearer}")])
            .args(["--checks", "not_a_server_error", "--max-examples", "10", "--workers", "2"])
            .args(["--request-timeout", "10", "--no-color", "--seed", "7"])
            .args(["--phases", "examples,coverage,fuzzing"])
            .arg("--report-dir")
            .arg(scratch.join("reports"))
            .output()
            .expect("schemathesis is missing: run scripts/test-tools.sh");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "schemathesis as the {who} found problems:\n{report}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the {who} pass took {:?}",
            started.elapsed()
        );
        let cases = report.lines().skip_while(|line| !line.starts_with("Test cases:")).nth(1);
        eprintln!("schemathesis as the {who}: {}", cases.unwrap_or("?").trim());
        assert_eq!(server.call("GET", "/v1/health", None, None).status, 200);
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
