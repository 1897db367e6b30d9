//! MQTT end to end, against Debian's mosquitto: every publish the run
//! recorded is one the broker received and delivered, at each QoS.

use std::path::Path;
use std::time::Duration;

use wasmload_testkit::{example, guest, run_component, Mosquitto, Outcome};

fn wasmload() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wasmload"))
}

fn load(guest_name: &str, host: &str, flags: &str) -> Outcome {
    run_component(wasmload(), &guest(guest_name), host, flags)
}

#[test]
fn sensor_publishes_match_what_the_broker_received_and_delivered() {
    sensor_matches_the_broker(&guest("mqtt-sensor"));
}

#[test]
fn python_sensor_publishes_match_what_the_broker_received_and_delivered() {
    sensor_matches_the_broker(&example("python", "mqtt-sensor"));
}

#[test]
fn js_sensor_publishes_match_what_the_broker_received_and_delivered() {
    sensor_matches_the_broker(&example("js", "mqtt-sensor"));
}

#[test]
fn go_sensor_publishes_match_what_the_broker_received_and_delivered() {
    sensor_matches_the_broker(&example("go", "mqtt-sensor"));
}

#[test]
fn c_sensor_publishes_match_what_the_broker_received_and_delivered() {
    sensor_matches_the_broker(&example("c", "mqtt-sensor"));
}

#[test]
fn zig_sensor_publishes_match_what_the_broker_received_and_delivered() {
    sensor_matches_the_broker(&example("zig", "mqtt-sensor"));
}

fn sensor_matches_the_broker(sensor: &Path) {
    let broker = Mosquitto::start(&["sensors/#"]);
    let run = run_component(wasmload(), sensor, &broker.url(), "-u 4 -i 200 --seed 9 -e WAIT_MS=5");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.summary()["errors"], serde_json::json!([]), "{}", run.stderr);
    assert_eq!(run.summary()["task_errors"], serde_json::json!([]), "{}", run.stderr);
    let count = |name: &str| run.count("mqtt", name);
    assert_eq!(count("connect"), 4);
    assert_eq!(count("subscribe commands/1") + count("subscribe commands/2"), 2);
    // Every iteration published once, and each publish at each QoS reached
    // the subscriber.
    let (readings, alarms, audits) =
        (count("sensors/temperature"), count("sensors/alarm"), count("sensors/audit"));
    assert_eq!(readings + alarms + audits + count("command"), 200);
    assert!(readings > 0 && alarms > 0 && audits > 0 && count("command") > 0);
    // The broker's own count of the PUBLISH packets it received, which
    // mosquitto 2.0 keeps for QoS 0 and 1 only (the subscriber's count
    // below covers QoS 2). By the time it is published, the subscriber has
    // got the last deliveries too.
    let received = broker.received_publishes(Duration::from_millis(2500));
    assert_eq!(received, readings + alarms + count("command"));
    assert_eq!(broker.delivered("sensors/temperature"), readings);
    assert_eq!(broker.delivered("sensors/alarm"), alarms);
    assert_eq!(broker.delivered("sensors/audit"), audits);
    // Each command came back to its sender, timed by the guest.
    assert_eq!(run.count("mqtt", "command round trip"), count("command"));
}

#[test]
fn a_broker_that_is_not_there_is_a_failed_connect_per_user() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let run = load("mqtt-sensor", &format!("mqtt://127.0.0.1:{port}"), "-u 2 -i 4");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!((run.count("mqtt", "connect"), run.failures("mqtt", "connect")), (2, 2));
    let error = run.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("connect:"), "{error}");
    assert_eq!(run.summary()["task_errors"][0]["task"], "on-start");
}
