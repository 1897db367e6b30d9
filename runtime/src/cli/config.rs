//! Options of `wasmload run` from a TOML file and `WASMLOAD_*` variables.
//!
//! Precedence: flags, then environment variables, then the file, then the
//! defaults. Every flag has a file key (its long name: `users = 100`,
//! `run-time = "5m"`, `param = ["K=V"]` or `[param]` with `K = "V"`) and a
//! variable (`WASMLOAD_USERS`, `WASMLOAD_RUN_TIME`, ...). Both become flags
//! placed before the ones typed, so clap checks them like typed ones.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, CommandFactory};

use crate::cli::Cli;
use crate::run::spec::{flags_for, option_arg, option_key, option_values};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "wasmload.toml";

/// Parses the command line, filling `run`'s options the flags leave out
/// from the environment and the config file.
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = Cli::command().try_get_matches_from(&args)?;
    let Some(("run", run)) = matches.subcommand() else {
        return Cli::from_arg_matches(&matches);
    };
    let extra = implied_flags(run, |name| std::env::var(name).ok())
        .map_err(|message| Cli::command().error(ErrorKind::InvalidValue, message))?;
    if extra.is_empty() {
        return Cli::from_arg_matches(&matches);
    }
    // `run` is the first word after the program name: wasmload has no
    // global flags.
    let mut combined: Vec<OsString> = args.iter().take(2).cloned().collect();
    combined.extend(extra.into_iter().map(OsString::from));
    combined.extend(args.iter().skip(2).cloned());
    let matches = Cli::command().try_get_matches_from(combined)?;
    Cli::from_arg_matches(&matches)
}

/// Flags for the options `run` was not given on the command line: from
/// variables first, then from the config file.
fn implied_flags(
    run: &ArgMatches,
    variable: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    let command = Cli::command();
    let Some(run_command) = command.find_subcommand("run") else {
        unreachable!("the run subcommand exists")
    };
    let typed =
        |arg: &Arg| run.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine);
    let file = match config_path(run, &variable) {
        Some(path) => read_file(&path)?,
        None => toml::Table::new(),
    };
    for key in file.keys() {
        if option_arg(run_command, key).is_none() {
            return Err(format!("config file: `{key}` is not an option of `wasmload run`"));
        }
    }
    let mut flags = Vec::new();
    for arg in run_command.get_arguments().filter(|arg| !typed(arg)) {
        let Some(name) = option_key(arg) else { continue };
        if name == "config" {
            continue;
        }
        let from_env = variable(&env_name(&name));
        if let Some(value) = from_env {
            flags.extend(flags_for(arg, &[value])?);
        } else if let Some(value) = file.get(&name).or_else(|| file.get(&name.replace('-', "_"))) {
            let values = toml_values(value).map_err(|e| format!("config file: `{name}`: {e}"))?;
            flags.extend(flags_for(arg, &values)?);
        }
    }
    Ok(flags)
}

/// `--config`, `WASMLOAD_CONFIG`, or `wasmload.toml` if it exists.
fn config_path(run: &ArgMatches, variable: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(path) = run.get_one::<PathBuf>("config") {
        return Some(path.clone());
    }
    if let Some(path) = variable(&env_name("config")) {
        return Some(PathBuf::from(path));
    }
    Path::new(DEFAULT_FILE).exists().then(|| PathBuf::from(DEFAULT_FILE))
}

fn read_file(path: &Path) -> Result<toml::Table, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    text.parse::<toml::Table>().map_err(|e| format!("{shown} is not valid TOML: {}", e.message()))
}

/// `WASMLOAD_RUN_TIME` for `run-time`.
fn env_name(key: &str) -> String {
    format!("WASMLOAD_{}", key.replace('-', "_").to_uppercase())
}

/// A TOML value as the strings a flag takes, read as JSON values are.
fn toml_values(value: &toml::Value) -> Result<Vec<String>, String> {
    if let toml::Value::Datetime(_) = value {
        return Err("dates are not option values".into());
    }
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    option_values(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn implied(args: &[&str], env: &[(&str, &str)], file: Option<&str>) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("wasmload-config-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let mut argv = vec!["wasmload", "run"];
        let path = dir.join("w.toml");
        let path_text = path.display().to_string();
        if let Some(file) = file {
            std::fs::write(&path, file).unwrap();
            argv.extend(["--config", &path_text]);
        }
        argv.extend(args);
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        let env: HashMap<String, String> =
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let flags = implied_flags(matches.subcommand_matches("run").unwrap(), |name| {
            env.get(name).cloned()
        });
        std::fs::remove_dir_all(&dir).unwrap();
        flags.unwrap()
    }

    #[test]
    fn flags_beat_variables_which_beat_the_file() {
        let file = "users = 5\nrun-time = \"9s\"\nspawn_rate = 2\ncomponent = \"u.wasm\"\n\
                    csv-full-history = true\n[param]\nA = \"1\"\n";
        let flags = implied(&["-u", "7"], &[("WASMLOAD_RUN_TIME", "3s")], Some(file));
        assert!(!flags.iter().any(|f| f.starts_with("--users")), "{flags:?}");
        assert!(flags.contains(&"--run-time=3s".to_owned()), "{flags:?}");
        assert!(flags.contains(&"--spawn-rate=2".to_owned()), "{flags:?}");
        assert!(flags.contains(&"--csv-full-history".to_owned()), "{flags:?}");
        assert!(flags.contains(&"--param=A=1".to_owned()), "{flags:?}");
        assert!(flags.contains(&"u.wasm".to_owned()), "{flags:?}");
    }

    #[test]
    fn unknown_keys_and_bad_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("wasmload-config-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        for (text, expected) in
            [("userz = 5", "`userz` is not an option"), ("users = ", "is not valid TOML")]
        {
            std::fs::write(&path, text).unwrap();
            let args = ["wasmload", "run", "--config", path.to_str().unwrap()];
            let matches = Cli::command().try_get_matches_from(args).unwrap();
            let error =
                implied_flags(matches.subcommand_matches("run").unwrap(), |_| None).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
