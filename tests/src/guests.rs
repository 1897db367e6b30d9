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

/// Builds the examples of `language` (c, zig, python, js or go) with
/// `scripts/guests.sh` once per test process, then returns the path of
/// example `name`. A missing toolchain fails the test, naming the script
/// that installs it.
pub fn example(language: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Mutex::default);
    let mut built = built.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let outcome = built.entry(language.to_owned()).or_insert_with(|| build_language(language));
    if let Err(error) = outcome {
        panic!("building the {language} examples failed: {error}");
    }
    let path = guest_target_dir().join(language).join(format!("{name}.wasm"));
    assert!(path.exists(), "no {language} example at {}", path.display());
    path
}

fn build_language(language: &str) -> Result<(), String> {
    let output = Command::new(repo_root().join("scripts/guests.sh"))
        .arg(language)
        .env("CARGO_TARGET_DIR", guest_target_dir().parent().expect("guests sit in a target dir"))
        .output()
        .map_err(|e| format!("cannot run scripts/guests.sh: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{}\n{}\nis its toolchain installed? (scripts/toolchains.sh {language})",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// Builds the test guest `tests/guests/LANGUAGE/NAME` (python or js) with
/// its SDK's build script, once per test process, and returns its path.
pub fn test_guest(language: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Mutex::default);
    let mut built = built.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = format!("{language}/{name}");
    let outcome = built.entry(key.clone()).or_insert_with(|| {
        let source = repo_root().join("tests/guests").join(&key);
        let source = match language {
            "js" => source.join("user.js"),
            _ => source,
        };
        let out = guest_target_dir().join("tests").join(language);
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let component = out.join(format!("{name}.wasm"));
        let output = Command::new(repo_root().join(format!("sdk/{language}/build.sh")))
            .arg(&component)
            .arg(&source)
            .output()
            .map_err(|e| format!("cannot run sdk/{language}/build.sh: {e}"))?;
        if output.status.success() {
            Ok(component)
        } else {
            Err(format!(
                "{}\n{}\nis its toolchain installed? (scripts/toolchains.sh {language})",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    });
    match outcome {
        Ok(path) => path.clone(),
        Err(error) => panic!("building test guest {key} failed: {error}"),
    }
}
