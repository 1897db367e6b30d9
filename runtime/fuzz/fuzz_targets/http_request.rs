//! Any URL and headers a guest sends: a request or a clear refusal, never
//! a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmload::fuzzing::{guest_headers, resolve};

fuzz_target!(|text: &str| {
    let mut parts = text.split('\n');
    let target = parts.next().unwrap_or_default();
    let base = url::Url::parse("http://127.0.0.1:8080/api/").expect("a valid base");
    let _ = resolve(Some(&base), target);
    let _ = resolve(None, target);
    let headers: Vec<(String, String)> = parts
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let _ = guest_headers(&headers);
});
