//! Guest components, compiled from source once per test process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The repository root: the nearest directory above the package under test
/// that holds `wit/user.wit`.
///
/// Read at run time, not baked in with `env!`: cargo may reuse a testkit
/// compiled in another checkout that shares the target dir, and would then
/// build that checkout's guests.
fn repo_root() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().expect("a working directory"));
    package
        .ancestors()
        .find(|dir| dir.join("wit/user.wit").is_file())
        .unwrap_or_else(|| panic!("no wit/user.wit above {}", package.display()))
        .to_path_buf()
}

/// Where guests are built: beside the host's target dir, but separate so a
/// guest build never waits on the lock of the `cargo test` that runs it.
pub fn guest_target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("guests"),
        None => repo_root().join("target").join("guests"),
    }
}

/// Builds every guest workspace (examples and test guests) once, then
/// returns the path of guest `name` (its crate name, e.g. `http-basic`).
pub fn guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        for workspace in ["guest-examples/rust", "tests/guests"] {
            build_workspace(&repo_root().join(workspace))?;
        }
        Ok(())
    });
    if let Err(error) = built {
        panic!("building the guests failed: {error}");
    }
    let path = guest_target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    assert!(path.exists(), "no guest component at {}", path.display());
    path
}

fn build_workspace(workspace: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(guest_target_dir())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo build of {} failed ({status}); is the wasm32-wasip2 target installed? \
             (rustup target add wasm32-wasip2)",
            workspace.display()
        ))
    }
}

/// Builds example `guest-examples/LANGUAGE/NAME` (c, zig, python, js or go)
/// with its SDK's build script once per test process, and returns its path.
/// A missing toolchain fails the test, naming the script that installs it.
pub fn example(language: &str, name: &str) -> PathBuf {
    built_with_sdk(language, "guest-examples", name)
}

/// Builds the test guest `tests/guests/LANGUAGE/NAME` (python or js) the
/// same way, and returns its path.
pub fn test_guest(language: &str, name: &str) -> PathBuf {
    built_with_sdk(language, "tests/guests", name)
}

fn built_with_sdk(language: &str, root: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Mutex::default);
    let mut built = built.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = format!("{root}/{language}/{name}");
    let outcome = built.entry(key.clone()).or_insert_with(|| build_with_sdk(language, root, name));
    match outcome {
        Ok(path) => path.clone(),
        Err(error) => panic!("building {key} failed: {error}"),
    }
}

fn build_with_sdk(language: &str, root: &str, name: &str) -> Result<PathBuf, String> {
    let source = repo_root().join(root).join(language).join(name);
    // The SDK's build script takes the user's file, or (Python, Go) its directory.
    let source = match language {
        "c" => source.join("user.c"),
        "zig" => source.join("user.zig"),
        "js" => source.join("user.js"),
        _ => source,
    };
    let out = match root {
        "guest-examples" => guest_target_dir().join(language),
        _ => guest_target_dir().join("tests").join(language),
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let component = out.join(format!("{name}.wasm"));
    let output = Command::new(repo_root().join(format!("sdk/{language}/build.sh")))
        .arg(&component)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run sdk/{language}/build.sh: {e}"))?;
    if output.status.success() {
        return Ok(component);
    }
    Err(format!(
        "{}\n{}\nis its toolchain installed? (scripts/toolchains.sh {language})",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}
