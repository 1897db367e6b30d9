//! Events a guest reports itself: fired, timed, and timers dropped.

use std::path::Path;

use wasmload_testkit::run_guest;

#[test]
fn guest_events_are_recorded_like_host_ones() {
    let prefix = std::env::temp_dir().join(format!("wasmload-events-{}", std::process::id()));
    let flags = format!("-i 40 --csv {}", prefix.display());
    let run = run_guest(
        Path::new(env!("CARGO_BIN_EXE_wasmload")),
        "events-checks",
        "http://127.0.0.1:1",
        &flags,
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.summary()["task_errors"].as_array().unwrap().is_empty(), "{}", run.stdout);
    assert_eq!((run.count("custom", "fired"), run.failures("custom", "fired")), (20, 10));
    let fired = run.row("custom", "fired").unwrap();
    assert!((41.9..42.1).contains(&fired["p50_ms"].as_f64().unwrap()), "{fired}");
    assert_eq!(fired["avg_length"].as_f64().unwrap(), 3.5);
    assert_eq!((run.count("custom", "timed"), run.failures("custom", "timed")), (10, 10));
    assert!(run.row("custom", "timed").unwrap()["p50_ms"].as_f64().unwrap() >= 20.0);
    assert_eq!((run.count("custom", "dropped"), run.failures("custom", "dropped")), (10, 0));
    let errors = run.summary()["errors"].as_array().unwrap().clone();
    let texts: Vec<&str> = errors.iter().map(|e| e["error"].as_str().unwrap()).collect();
    assert!(texts.contains(&"made-up error") && texts.contains(&"block failed"), "{texts:?}");

    // Custom metrics: 10 `fired` steps each added 2 items and one 10.5 sample.
    let metrics = run.summary()["metrics"].as_array().unwrap().clone();
    let metric = |name: &str| metrics.iter().find(|m| m["name"] == name).unwrap().clone();
    assert_eq!(
        (metric("items bought")["kind"].as_str(), metric("items bought")["value"].as_f64()),
        (Some("counter"), Some(20.0))
    );
    let basket = metric("basket value");
    assert_eq!((basket["kind"].as_str(), basket["value"].as_f64()), (Some("trend"), Some(10.0)));
    // Trends keep 3 significant digits, like response times.
    assert!((basket["p50"].as_f64().unwrap() - 10.5).abs() < 0.011, "{basket}");
    assert!(run.stdout.contains("Custom metrics"), "{}", run.stdout);
    assert!(run.stdout.contains("items bought"), "{}", run.stdout);
    let csv = std::fs::read_to_string(format!("{}_custom_metrics.csv", prefix.display())).unwrap();
    assert!(
        csv.starts_with(
            "Name,Kind,Total / samples,Min,Avg,Median,95%,Max\r\nitems bought,counter,20,"
        ),
        "{csv}"
    );
}
