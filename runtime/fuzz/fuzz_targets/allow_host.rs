//! Any `--allow-host` patterns and any destination: allowed or denied,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmload::fuzzing::NetworkPolicy;

fuzz_target!(|text: &str| {
    let mut lines = text.lines();
    let destination = lines.next().unwrap_or_default();
    let patterns: Vec<String> = lines.map(str::to_owned).collect();
    if let Ok(policy) = NetworkPolicy::new(None, &patterns) {
        let (host, port) = destination.rsplit_once(':').unwrap_or((destination, "80"));
        let _ = policy.check_target(host, port.parse().unwrap_or(80));
    }
});
