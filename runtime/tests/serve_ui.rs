//! The web UI of `wasmload serve`, driven in Debian's chromium by
//! playwright-core (both from scripts/test-tools.sh): a whole run, from
//! signing in to downloading its report. Screenshots are kept in
//! `$CARGO_TARGET_DIR/ui-screenshots` to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use wasmload_testkit::{guest, guest_target_dir, ServeProcess, TargetServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

#[test]
fn the_web_ui_drives_a_whole_run_in_chromium() {
    let server = ServeProcess::start(wasmload(), &[]);
    let (target, other) = (TargetServer::start(), TargetServer::start());
    let token = server.tenant("ui", json!({"allow-host": ["127.0.0.1"]}));
    let shots: PathBuf = guest_target_dir().with_file_name("ui-screenshots");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui/drive.cjs");
    let output = Command::new("node")
        .arg(&script)
        .args([server.url(), &token])
        .arg(guest("http-hammer"))
        .args([target.url(), other.url()])
        .arg(&shots)
        .output()
        .expect("node is needed for the UI test (it comes with npm)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the UI drive failed (playwright-core and chromium come from scripts/test-tools.sh):\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the drive's JSON");
    assert_eq!(result["problems"], json!([]), "the page logged errors");
    assert_eq!(result["exitCode"], "0");
    let thresholds = result["thresholds"].as_str().unwrap();
    assert!(
        thresholds.contains("held: fail_ratio<0.01") && thresholds.contains("held: p95<1s"),
        "{thresholds}"
    );
    let served = target.count("GET", "/");
    assert!(served > 100, "{served} requests");
    assert_eq!(
        result["reportRequests"], served,
        "the downloaded report holds what the target served"
    );
    let charts = result["reportCharts"].as_array().cloned().unwrap_or_default();
    assert_eq!(charts.len(), 5, "the run's report in the page: {charts:?}");
    assert!(charts.iter().all(|chart| chart["points"].as_u64().unwrap_or(0) > 0), "{charts:?}");
    let row = &result["row"][0];
    assert_eq!((row[0].as_str(), row[1].as_str()), (Some("GET"), Some("/")), "{row}");
    assert_eq!(row[2].as_str().and_then(|n| n.parse().ok()), Some(served), "the page's table");
    assert!(other.count("GET", "/") > 0, "the second run ran until stopped");
    for name in ["components", "new-run", "live", "finished", "stopped", "runs"] {
        assert!(shots.join(format!("{name}.png")).exists(), "no {name}.png");
    }
}
