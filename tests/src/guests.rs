//! Guest components, compiled from source once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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
fn guest_target_dir() -> PathBuf {
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
