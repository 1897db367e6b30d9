//! Report files a run writes: Locust-compatible CSVs.

use std::path::Path;

use wasmload_testkit::{run_guest, TargetServer};

/// Locust's literal CSV headers.
const LOCUST_STATS: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const LOCUST_FAILURES: &str = "Method,Name,Error,Occurrences";
const LOCUST_HISTORY: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

#[test]
fn csv_files_have_locusts_columns_and_the_runs_numbers() {
    let server = TargetServer::start();
    let dir = std::env::temp_dir().join(format!("wasmload-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("run");
    let flags = format!(
        "-u 2 -t 2500ms -e WAIT_MS=20 -e PATH=/status/404 --csv {} --csv-full-history",
        prefix.display()
    );
    let run =
        run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), "http-hammer", &server.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let read = |suffix: &str| {
        std::fs::read_to_string(format!("{}_{suffix}.csv", prefix.display())).unwrap()
    };
    let requests = run.summary()["totals"]["requests"].as_u64().unwrap();
    assert!(requests > 0);

    let stats = read("stats");
    let lines: Vec<&str> = stats.lines().collect();
    assert_eq!(lines[0], LOCUST_STATS);
    assert_eq!(lines.len(), 3, "{stats}");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(&row[..4], ["GET", "/status/404", &requests.to_string(), &requests.to_string()]);
    let aggregated: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(&aggregated[..3], ["", "Aggregated", &requests.to_string()]);

    let failures = read("failures");
    let expected = format!("{LOCUST_FAILURES}\nGET,/status/404,HTTP 404 Not Found,{requests}\n");
    assert_eq!(failures, expected);

    let history = read("stats_history");
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines[0], LOCUST_HISTORY);
    // One Aggregated and one /status/404 row per second, the last with the totals.
    assert!(lines.len() >= 5, "{history}");
    let last: Vec<&str> =
        lines.iter().rev().find(|l| l.contains(",Aggregated,")).unwrap().split(',').collect();
    assert_eq!(last[17], requests.to_string());
    assert_eq!(last[18], requests.to_string());
    assert!(lines.iter().any(|l| l.contains(",GET,/status/404,")), "{history}");
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

#[test]
fn the_html_report_is_self_contained_with_charts_and_tables() {
    let server = TargetServer::start();
    let path = std::env::temp_dir().join(format!("wasmload-report-{}.html", std::process::id()));
    let flags = format!("-u 2 -t 2500ms -e WAIT_MS=20 --html {}", path.display());
    let run =
        run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), "http-hammer", &server.url(), &flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 3, "three charts");
    for title in ["Requests and failures per second", "Response time (ms, last 10 s)", "Users"] {
        assert!(page.contains(title), "no chart {title}");
    }
    assert!(page.contains("<td>Aggregated</td>"));
    // No network assets: the only URL is the SVG namespace.
    let urls: Vec<&str> =
        page.match_indices("http").map(|(at, _)| &page[at..at + 26.min(page.len() - at)]).collect();
    assert!(urls.iter().all(|url| url.starts_with("http://www.w3.org/2000/svg")), "{urls:?}");
    assert!(!page.contains("<script") && !page.contains("<link"));
    let _ = std::fs::remove_file(&path);
}
