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
use clap::{Arg, ArgAction, ArgMatches, CommandFactory};

use crate::cli::Cli;

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
        if key_arg(run_command, key).is_none() {
            return Err(format!("config file: `{key}` is not an option of `wasmload run`"));
        }
    }
    let mut flags = Vec::new();
    for arg in run_command.get_arguments().filter(|arg| !typed(arg)) {
        let Some(name) = file_key(arg) else { continue };
        if name == "config" {
            continue;
        }
        let from_env = variable(&env_name(&name));
        if let Some(value) = from_env {
            flags.extend(flags_for(arg, &name, &[value])?);
        } else if let Some(value) = file.get(&name).or_else(|| file.get(&name.replace('-', "_"))) {
            let values = toml_values(value).map_err(|e| format!("config file: `{name}`: {e}"))?;
            flags.extend(flags_for(arg, &name, &values)?);
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

/// The name an option has in the file: its long flag, or `component`.
fn file_key(arg: &Arg) -> Option<String> {
    match arg.get_long() {
        Some("help") => None,
        Some(long) => Some(long.to_owned()),
        None => arg.is_positional().then(|| arg.get_id().as_str().to_owned()),
    }
}

fn key_arg<'a>(command: &'a clap::Command, key: &str) -> Option<&'a Arg> {
    let key = key.replace('_', "-");
    command.get_arguments().find(|arg| file_key(arg).as_deref() == Some(key.as_str()))
}

/// `WASMLOAD_RUN_TIME` for `run-time`.
fn env_name(key: &str) -> String {
    format!("WASMLOAD_{}", key.replace('-', "_").to_uppercase())
}

/// A TOML value as the strings a flag takes.
fn toml_values(value: &toml::Value) -> Result<Vec<String>, String> {
    Ok(match value {
        toml::Value::String(text) => vec![text.clone()],
        toml::Value::Integer(number) => vec![number.to_string()],
        toml::Value::Float(number) => vec![number.to_string()],
        toml::Value::Boolean(flag) => vec![flag.to_string()],
        toml::Value::Array(items) => {
            let mut values = Vec::new();
            for item in items {
                values.extend(toml_values(item)?);
            }
            values
        }
        // `[param]` tables: KEY = "VALUE".
        toml::Value::Table(table) => table
            .iter()
            .map(|(key, value)| Ok(format!("{key}={}", toml_values(value)?.join(","))))
            .collect::<Result<_, String>>()?,
        toml::Value::Datetime(_) => return Err("dates are not option values".into()),
    })
}

/// The flags that give `arg` these values.
fn flags_for(arg: &Arg, name: &str, values: &[String]) -> Result<Vec<String>, String> {
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return Ok(match values {
            [value] if is_true(value)? => vec![format!("--{name}")],
            [_] => vec![],
            _ => return Err(format!("`{name}` is true or false")),
        });
    }
    if arg.is_positional() {
        return Ok(values.to_vec());
    }
    Ok(values.iter().map(|value| format!("--{name}={value}")).collect())
}

fn is_true(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(format!("`{value}` is not true or false")),
    }
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
