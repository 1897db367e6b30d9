//! Debian's mosquitto broker on a free loopback port, and a subscriber
//! (`mosquitto_sub`, from mosquitto-clients) that logs every message the
//! broker delivered on the topics it listens to.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running broker and its listening subscriber; both killed when dropped.
pub struct Mosquitto {
    broker: Child,
    subscriber: Child,
    port: u16,
    dir: PathBuf,
    /// `TOPIC PAYLOAD` of every message the subscriber got.
    delivered: Arc<Mutex<Vec<String>>>,
    /// Probe messages published before the subscriber was listening.
    probes: u64,
}

impl Mosquitto {
    /// Starts the broker (`$SYS` topics every second) and a subscriber to
    /// `topics` at QoS 2, and waits until the subscriber gets a probe.
    pub fn start(topics: &[&str]) -> Mosquitto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("wasmload-mosquitto-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the broker");
        let config = dir.join("mosquitto.conf");
        let settings = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 1\n\
             max_queued_messages 100000\n"
        );
        std::fs::write(&config, settings).expect("writing mosquitto.conf");
        let broker = Command::new("mosquitto")
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is not installed: run scripts/test-tools.sh, or apt-get install mosquitto");
        let port_text = port.to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut subscribe = Command::new("mosquitto_sub");
        subscribe.args(["-h", "127.0.0.1", "-p", &port_text, "-q", "2", "-v", "-t", "probe"]);
        for topic in topics {
            subscribe.args(["-t", topic]);
        }
        let mut subscriber = subscribe
            .stdout(Stdio::piped())
            .spawn()
            .expect("mosquitto_sub is not installed: apt-get install mosquitto-clients");
        let stdout = subscriber.stdout.take().expect("the subscriber's output");
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&delivered);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(line);
            }
        });
        let mut mosquitto = Mosquitto { broker, subscriber, port, dir, delivered, probes: 0 };
        while mosquitto.delivered("probe") == 0 {
            assert!(Instant::now() < deadline, "the subscriber got no probe within 10 s");
            mosquitto.publish("probe", "ready");
            mosquitto.probes += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        mosquitto
    }

    /// `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    fn publish(&self, topic: &str, message: &str) {
        let port = self.port.to_string();
        let status = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port, "-t", topic, "-m", message])
            .status()
            .expect("mosquitto_pub is not installed: apt-get install mosquitto-clients");
        assert!(status.success(), "mosquitto_pub failed");
    }

    /// Messages the subscriber got on `topic`.
    pub fn delivered(&self, topic: &str) -> u64 {
        let prefix = format!("{topic} ");
        let lines = self.delivered.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        lines.iter().filter(|line| line.starts_with(&prefix)).count() as u64
    }

    /// PUBLISH packets the broker received from clients other than this
    /// helper, per its `$SYS/broker/publish/messages/received` (mosquitto
    /// counts QoS 0 and 1 there, not QoS 2), read once it has been updated
    /// after `settle`.
    pub fn received_publishes(&self, settle: Duration) -> u64 {
        std::thread::sleep(settle);
        let port = self.port.to_string();
        let output = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port, "-C", "1", "-W", "5"])
            .args(["-t", "$SYS/broker/publish/messages/received"])
            .output()
            .expect("mosquitto_sub");
        let text = String::from_utf8_lossy(&output.stdout);
        let received: u64 = text.trim().parse().unwrap_or_else(|_| panic!("$SYS said `{text}`"));
        received - self.probes
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        for child in [&mut self.subscriber, &mut self.broker] {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
