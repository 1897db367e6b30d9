//! Compiled components are kept on disk and reused; a damaged entry is
//! compiled again.

use std::path::{Path, PathBuf};

use wasmload_testkit::{run_guest, TargetServer};

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|listing| listing.filter_map(|entry| Some(entry.ok()?.path())).collect())
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn a_second_run_loads_the_compiled_component_and_a_damaged_one_is_replaced() {
    let server = TargetServer::start();
    let dir = std::env::temp_dir().join(format!("wasmload-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let exe = Path::new(env!("CARGO_BIN_EXE_wasmload"));
    let flags = format!("-i 3 --cache-dir {}", dir.display());
    let run = || run_guest(exe, "http-hammer", &server.url(), &flags);

    let first = run();
    assert_eq!(first.code, Some(0), "stderr: {}", first.stderr);
    let cached = entries(&dir);
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].extension().is_some_and(|ext| ext == "cwasm"), "{cached:?}");
    let modified = std::fs::metadata(&cached[0]).and_then(|m| m.modified()).expect("mtime");

    let second = run();
    assert_eq!(second.count("GET", "/"), 3, "stderr: {}", second.stderr);
    assert_eq!(entries(&dir), cached);
    let unchanged = std::fs::metadata(&cached[0]).and_then(|m| m.modified()).expect("mtime");
    assert_eq!(unchanged, modified, "the entry was loaded, not written again");

    std::fs::write(&cached[0], b"not machine code").expect("damaging the entry");
    let third = run();
    assert_eq!(third.count("GET", "/"), 3, "stderr: {}", third.stderr);
    let rewritten = std::fs::read(&cached[0]).expect("the entry");
    assert!(rewritten.len() > 1000, "the damaged entry was compiled again and replaced");

    let uncached = run_guest(exe, "http-hammer", &server.url(), "-i 1 --no-cache");
    assert_eq!(uncached.code, Some(0), "stderr: {}", uncached.stderr);
    assert_eq!(server.count("GET", "/"), 10);
    let _ = std::fs::remove_dir_all(&dir);
}
