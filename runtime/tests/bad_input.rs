//! Input the user must fix gets exit code 2 and one readable line.

use std::path::Path;

use wasmload_testkit::{guest, run_wasmload};

/// Asserts exit code 2 and a single stderr line containing `expected`.
fn refused(args: &[&str], expected: &str) {
    let run = run_wasmload(Path::new(env!("CARGO_BIN_EXE_wasmload")), args);
    assert_eq!(run.code, Some(2), "args {args:?}, stderr: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "args {args:?}: not one line:\n{}", run.stderr);
    assert!(lines[0].starts_with("wasmload: "), "{}", lines[0]);
    assert!(lines[0].contains(expected), "args {args:?}: {:?} lacks {expected:?}", lines[0]);
    assert!(run.summary.is_none());
}

fn scratch_file(name: &str, bytes: &[u8]) -> String {
    let path =
        std::env::temp_dir().join(format!("wasmload-bad-input-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn missing_and_non_wasm_files_are_refused() {
    refused(&["run", "no/such/user.wasm"], "cannot read no/such/user.wasm");
    let text = scratch_file("text.wasm", b"hello, not wasm");
    refused(&["run", &text], "it is not a WebAssembly file");
}

#[test]
fn a_core_module_is_refused_with_a_hint() {
    let module = scratch_file("core.wasm", b"\0asm\x01\0\0\0");
    refused(&["run", &module], "core WebAssembly module, not a component");
}

#[test]
fn a_component_of_another_world_is_refused_naming_the_export() {
    let component = guest("not-a-user");
    refused(
        &["run", component.to_str().unwrap()],
        "does not fit the `wasmload:user/user` world: no exported instance named `wasmload:user/behaviour@0.1.0`",
    );
}

#[test]
fn bad_flag_values_are_refused() {
    let component = guest("http-hammer");
    let path = component.to_str().unwrap();
    refused(&["run", path, "-u", "0"], "--users");
    refused(&["run", path, "-u", "many"], "--users");
    refused(&["run", path, "-r", "0"], "not a positive number of users per second");
    refused(&["run", path, "-t", "soon"], "is not a duration");
    refused(&["run", path, "--host", "unix:/tmp/socket"], "has no host");
    refused(&["run", path, "--host", "nohost"], "is not a URL");
    refused(&["run", path, "-e", "novalue"], "is not KEY=VALUE");
    refused(&["run", path, "--no-such-flag"], "--no-such-flag");
    refused(&["run"], "no component to run");
    refused(
        &["run", path, "--ca-cert", "no/such.pem"],
        "cannot read certificates from no/such.pem",
    );
}
