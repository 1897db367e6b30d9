//! What a run leaves behind: the CSV files Locust 2.47 writes, compared with
//! real Locust's; JSON summaries merged and compared; JUnit; Prometheus,
//! scraped and pushed to a real Prometheus; the HTML report, opened in
//! Chromium.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use wasmload_testkit::{guest_target_dir, run_guest, run_wasmload, tool, Prometheus, TargetServer};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmload-reports-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// What kind of value a CSV cell holds, as a reader of Locust's files would
/// parse it.
fn shape(cell: &str) -> &'static str {
    if cell.is_empty() {
        "empty"
    } else if cell == "N/A" {
        "N/A"
    } else if cell.parse::<u64>().is_ok() {
        "int"
    } else if cell.parse::<f64>().is_ok() {
        "float"
    } else if cell.len() == 20 && cell.ends_with('Z') && cell.as_bytes()[10] == b'T' {
        "timestamp"
    } else {
        "text"
    }
}

/// A CSV file's rows, after checking every row ends with CRLF.
fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|record| record.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect();
    // Line ends inside a quoted cell (a traceback) are plain LF, as Python's.
    assert!(text.ends_with("\r\n"), "{}: the last row", path.display());
    assert_eq!(text.matches("\r\n").count(), rows.len(), "{}: a row without CRLF", path.display());
    rows
}

/// `file`'s rows keyed by `key` columns joined, with each cell's shape.
fn shapes(rows: &[Vec<String>], key: &[usize]) -> HashMap<String, Vec<&'static str>> {
    rows.iter()
        .skip(1)
        .map(|row| {
            let name = key.iter().map(|column| row[*column].as_str()).collect::<Vec<_>>().join(" ");
            (name, row.iter().map(|cell| shape(cell)).collect())
        })
        .collect()
}

/// The `mixed` guest as a Locust user.
const LOCUSTFILE: &str = r#"from locust import HttpUser, constant, task


class Mixed(HttpUser):
    wait_time = constant(0.02)

    @task
    def index(self):
        self.client.get("/")

    @task
    def missing(self):
        self.client.get("/status/404")

    @task
    def boom(self):
        raise ValueError("boom, with comma")
"#;

#[test]
fn csv_files_are_the_ones_locust_2_47_writes() {
    let target = TargetServer::start();
    let dir = scratch("locust");
    // Real Locust, with the user our `mixed` guest is.
    let locustfile = dir.join("locustfile.py");
    std::fs::write(&locustfile, LOCUSTFILE).expect("writing the locustfile");
    let theirs = dir.join("locust");
    let locust = Command::new(tool("locust/bin/locust"))
        .arg("-f")
        .arg(&locustfile)
        .args([
            "--headless",
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "4s",
            "--csv-full-history",
            "-H",
            &target.url(),
        ])
        .arg("--csv")
        .arg(&theirs)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("running locust");
    // Locust exits 1 when requests failed, as they do here.
    assert!(locust.code().is_some(), "locust was killed");
    let ours = dir.join("wasmload");
    let flags = format!("-u 2 -t 4s --csv {} --csv-full-history", ours.display());
    let run = run_guest(wasmload(), "mixed", &target.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);

    let file = |prefix: &Path, suffix: &str| {
        rows(&PathBuf::from(format!("{}_{suffix}.csv", prefix.display())))
    };
    for suffix in ["stats", "stats_history", "failures", "exceptions"] {
        let (theirs, ours) = (file(&theirs, suffix), file(&ours, suffix));
        assert_eq!(ours[0], theirs[0], "the header of _{suffix}.csv");
        assert!(ours.len() > 1 && theirs.len() > 1, "_{suffix}.csv has rows");
    }
    // The same rows, each cell a value of the same kind. A median is the
    // bucket's whole number, or the extreme when the bucket lies past it.
    fn median(shape: &'static str) -> &'static str {
        if shape == "float" {
            "int"
        } else {
            shape
        }
    }
    let (theirs_stats, ours_stats) =
        (shapes(&file(&theirs, "stats"), &[0, 1]), shapes(&file(&ours, "stats"), &[0, 1]));
    for name in ["GET /", "GET /status/404", " Aggregated"] {
        let (mut theirs, mut ours) = (theirs_stats[name].clone(), ours_stats[name].clone());
        for row in [&mut theirs, &mut ours] {
            row[4] = median(row[4]);
        }
        assert_eq!(ours, theirs, "_stats.csv, {name}");
    }
    let last_aggregated = |rows: Vec<Vec<String>>| {
        rows.into_iter()
            .rev()
            .find(|row| row[3] == "Aggregated")
            .expect("an Aggregated history row")
    };
    let (theirs_row, ours_row) = (
        last_aggregated(file(&theirs, "stats_history")),
        last_aggregated(file(&ours, "stats_history")),
    );
    let shaped = |row: &[String]| row.iter().map(|cell| median(shape(cell))).collect::<Vec<_>>();
    assert_eq!(shaped(&ours_row), shaped(&theirs_row), "the last Aggregated history row");
    assert_eq!(ours_row[4].split('.').nth(1).map(str::len), Some(6), "rates have six decimals");
    let failure_shapes =
        |rows: Vec<Vec<String>>| rows[1].iter().map(|cell| shape(cell)).collect::<Vec<_>>();
    assert_eq!(failure_shapes(file(&ours, "failures")), failure_shapes(file(&theirs, "failures")));
    let (theirs_exceptions, ours_exceptions) =
        (file(&theirs, "exceptions"), file(&ours, "exceptions"));
    assert_eq!(ours_exceptions[1][1], "boom, with comma");
    assert_eq!(ours_exceptions[1][3], theirs_exceptions[1][3], "nodes");
    assert_eq!(shape(&ours_exceptions[1][0]), "int");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn junit_has_a_case_per_threshold() {
    let target = TargetServer::start();
    let dir = scratch("junit");
    let junit = dir.join("thresholds.xml");
    let flags = format!(
        "-u 2 -t 2s -e WAIT_MS=20 --threshold p95<10s --threshold rps<1 --junit {}",
        junit.display()
    );
    let run = run_guest(wasmload(), "http-hammer", &target.url(), &flags);
    assert_eq!(run.code, Some(99), "stderr: {}", run.stderr);
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"<testsuite name="thresholds" tests="3" failures="1""#), "{xml}");
    assert!(xml.contains(r#"name="the run was whole" time="0"/>"#), "{xml}");
    assert!(xml.contains(r#"name="p95&lt;10s" time="0"/>"#), "{xml}");
    assert!(xml.contains(r#"<failure message="rps&lt;1: rps = "#), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_finds_a_target_made_twice_as_slow_and_nothing_in_the_same_one() {
    let target = TargetServer::start();
    let dir = scratch("compare");
    let run_into = |name: &str| {
        let path = dir.join(format!("{name}.json"));
        let run = run_guest(wasmload(), "http-hammer", &target.url(), "-u 4 -t 3s");
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        std::fs::write(&path, run.summary().to_string()).expect("writing a summary");
        path.display().to_string()
    };
    target.slow_down(Duration::from_millis(20));
    let (base, again) = (run_into("base"), run_into("again"));
    target.slow_down(Duration::from_millis(40));
    let slower = run_into("slower");
    // Two runs of one target differ by timing noise: p99 by 12% on a busy
    // machine, past the default 10%. 40% is wider than that noise and far
    // below the slowed target's +100%.
    let tolerance = ["--max-regression", "40%"];
    let compare = |new: &str, extra: &[&str]| {
        let args = [&["compare", base.as_str(), new][..], &tolerance, extra].concat();
        run_wasmload(wasmload(), &args)
    };
    let same = compare(&again, &[]);
    assert_eq!(same.code, Some(0), "stdout: {}\nstderr: {}", same.stdout, same.stderr);
    assert!(!same.stdout.lines().any(|line| line.starts_with("worse:")), "{}", same.stdout);
    let html = dir.join("compared.html");
    let html_path = html.display().to_string();
    let worse = compare(&slower, &["--html", &html_path]);
    assert_eq!(worse.code, Some(99), "stdout: {}\nstderr: {}", worse.stdout, worse.stderr);
    assert!(worse.stdout.contains("worse: GET /: p50 +"), "{}", worse.stdout);
    assert!(worse.stderr.contains("rows got worse than the base run"), "{}", worse.stderr);
    let page = std::fs::read_to_string(&html).expect("the compared report");
    assert!(page.contains(r#""comparison":{"changes":"#), "the page carries the comparison");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn remote_write_reaches_a_real_prometheus() {
    let prometheus = Prometheus::start();
    let target = TargetServer::start();
    let flags =
        format!("-u 2 -t 6s -e WAIT_MS=20 --out prometheus-rw={}/api/v1/write", prometheus.url);
    let run = run_guest(wasmload(), "http-hammer", &target.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("--out prometheus-rw"), "a push failed: {}", run.stderr);
    assert!(run.stderr.contains("as run=\""), "{}", run.stderr);
    let requests = run.count("GET", "/");
    assert!(requests > 0);
    // The last push, at the end, holds every request.
    let query =
        "wasmload_requests_total%7Bjob%3D%22wasmload%22%2Ctype%3D%22GET%22%2Cname%3D%22%2F%22%7D";
    assert_eq!(prometheus.value(query), Some(requests as f64));
    let bucket = "sum(wasmload_response_time_seconds_bucket%7Ble%3D%22%2BInf%22%7D)";
    assert_eq!(prometheus.value(bucket), Some(requests as f64));
    assert!(prometheus.value("wasmload_users").is_some());
}

#[test]
fn the_html_report_draws_every_chart_in_chromium() {
    let target = TargetServer::start();
    let dir = scratch("html");
    let page = dir.join("report.html");
    let flags =
        format!("-u 3 -t 3s --csv-full-history --threshold p95<10s --html {}", page.display());
    let run = run_guest(wasmload(), "mixed", &target.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let text = std::fs::read_to_string(&page).expect("the report");
    assert!(!text.contains("src=\"http") && !text.contains("href=\"http"), "no network assets");
    let shots = guest_target_dir().with_file_name("ui-screenshots");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui/report.cjs");
    let output = Command::new("node")
        .arg(&script)
        .arg(&page)
        .arg(&shots)
        .output()
        .expect("node is needed for the report test (it comes with npm)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    let result: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the drive's JSON");
    assert_eq!(result["problems"], serde_json::json!([]), "the page logged errors");
    let charts = result["charts"].as_array().cloned().unwrap_or_default();
    // Three over time, for the whole run and for a name; two by name, twice.
    assert_eq!(charts.len(), 10, "{charts:?}");
    for chart in &charts {
        assert!(chart["points"].as_u64().unwrap_or(0) > 0, "an empty chart: {chart}");
    }
    let requests = run.summary()["totals"]["requests"].as_u64().unwrap_or_default();
    assert_eq!(result["requests"], requests.to_string(), "the page's figure");
    assert!(result["thresholds"].as_str().unwrap_or_default().contains("All 1 thresholds held"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_adds_runs_exactly_and_report_rebuilds_from_json() {
    let server = TargetServer::start();
    let exe = Path::new(env!("CARGO_BIN_EXE_wasmload"));
    let dir = std::env::temp_dir().join(format!("wasmload-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = Vec::new();
    for (index, iterations) in [120, 80].into_iter().enumerate() {
        let run = run_guest(exe, "weighted", &server.url(), &format!("-u 2 -i {iterations}"));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let path = dir.join(format!("segment{index}.json"));
        std::fs::write(&path, run.summary().to_string()).unwrap();
        paths.push(path.display().to_string());
    }
    let merged_path = dir.join("all.json").display().to_string();
    let merged =
        wasmload_testkit::run_wasmload(exe, &["merge", &paths[0], &paths[1], "-o", &merged_path]);
    assert_eq!(merged.code, Some(0), "stderr: {}", merged.stderr);
    assert!(merged.stdout.contains("Aggregated"), "{}", merged.stdout);
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&merged_path).unwrap()).unwrap();
    assert_eq!(all["totals"]["requests"], 200);
    assert_eq!(all["users"], 4);
    let served = server.count("GET", "/a") + server.count("GET", "/b");
    assert_eq!(served, 200);

    let prefix = dir.join("again").display().to_string();
    let report = wasmload_testkit::run_wasmload(exe, &["report", &merged_path, "--csv", &prefix]);
    assert_eq!(report.code, Some(0), "stderr: {}", report.stderr);
    let stats = std::fs::read_to_string(format!("{prefix}_stats.csv")).unwrap();
    assert!(stats.lines().any(|line| line.starts_with(",Aggregated,200,")), "{stats}");

    let not_json = wasmload_testkit::run_wasmload(exe, &["report", &format!("{prefix}_stats.csv")]);
    assert_eq!(not_json.code, Some(2));
    assert!(not_json.stderr.contains("is not a wasmload JSON summary"), "{}", not_json.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One scrape of `/metrics` at `addr`, or `None` if nobody answers yet.
fn scrape(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: wasmload\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

#[test]
fn prometheus_sees_a_run_in_progress() {
    let server = TargetServer::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let component = wasmload_testkit::guest("http-hammer");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wasmload"))
        .args([
            "run",
            component.to_str().unwrap(),
            "-u",
            "2",
            "-t",
            "4s",
            "-e",
            "WAIT_MS=20",
            "--host",
        ])
        .arg(server.url())
        .args(["--metrics-addr", &addr])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut seen = None;
    while std::time::Instant::now() < deadline {
        if let Some(text) = scrape(&addr).filter(|text| text.contains("wasmload_requests_total{")) {
            seen = Some(text);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = child.wait().unwrap();
    assert!(status.success());
    let text = seen.expect("a scrape during the run showed requests");
    assert!(text.contains("# TYPE wasmload_users gauge"), "{text}");
    assert!(text.contains("wasmload_users 2"), "{text}");
    assert!(
        text.contains(r#"wasmload_response_time_seconds_bucket{le="+Inf",type="GET",name="/"}"#),
        "{text}"
    );
    // Nothing listens once the run is over.
    assert!(scrape(&addr).is_none());
}
