//! What a run is, as plain data: [`RunSpec`]. One type for every way a run
//! is described: `wasmload run`'s flags, `wasmload.toml`, `WASMLOAD_*`
//! variables and the JSON body of the service's `POST /v1/runs`. Its option
//! names are the flags' long names; clap parses every one of those
//! sources (JSON and TOML become flags first), so a value means the same
//! thing wherever it is written and is refused with the same words.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use clap::{Arg, ArgAction, Args, FromArgMatches, ValueEnum};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use url::Url;

use crate::bindings::context::Level;
use crate::report::thresholds::Threshold;
use crate::sandbox::{parse_size, Budgets};
use crate::scheduler::Stages;

/// The load a run makes, what its users may reach, and their limits.
/// Every field is a flag of `wasmload run` (its long name is the key in
/// files and JSON); [`RunSpec::default`] is what no flags give.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunSpec {
    /// Closed model: concurrent users [default: 1]. Open model: users made
    /// before the first iteration.
    #[arg(short = 'u', long, value_parser = clap::value_parser!(u32).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,

    /// Closed model: users started per second [default: all at once].
    #[arg(short = 'r', long, value_parser = parse_spawn_rate, conflicts_with_all = ["stages", "rate"])]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spawn_rate: Option<f64>,

    /// Open model: start iterations at this rate whatever the response
    /// times, e.g. 500, 500/s, 30/m.
    #[arg(long, value_parser = parse_rate, conflicts_with = "stages")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,

    /// Open model (and shapes): the most users at once [default: -u, at least 1000].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_users: Option<u32>,

    /// Open model: how long a due iteration may wait for a busy user
    /// before it counts as dropped (0s: drop at once, like k6).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    #[serde(serialize_with = "duration")]
    pub max_delay: Duration,

    /// Ramp linearly from 0 through targets: users (30s:100,2m:100,30s:0)
    /// or, for the open model, rates (30s:50/s,1m:50/s). The run time is
    /// their sum.
    #[arg(long, value_parser = Stages::parse, conflicts_with = "run_time")]
    #[serde(serialize_with = "optional_text", skip_serializing_if = "Option::is_none")]
    pub stages: Option<Stages>,

    /// Stop after this long, e.g. 30s, 5m, 1h30m [default: run until stopped].
    #[arg(short = 't', long, value_parser = parse_duration)]
    #[serde(serialize_with = "optional_duration", skip_serializing_if = "Option::is_none")]
    pub run_time: Option<Duration>,

    /// Stop after this many tasks in all (every user together).
    #[arg(short = 'i', long, value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,

    /// Once the run stops, how long running tasks may take to finish.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    #[serde(serialize_with = "duration")]
    pub stop_timeout: Duration,

    /// Run only tasks with at least one of these tags (comma-separated).
    #[arg(short = 'T', long, value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Never run tasks with any of these tags (comma-separated).
    #[arg(short = 'E', long, value_delimiter = ',')]
    pub exclude_tags: Vec<String>,

    /// A pass criterion `[TYPE NAME:] METRIC OP VALUE`, e.g. 'p95<300ms' or
    /// 'GET /login: fail_ratio<1%'; metrics p50 p90 p95 p99 max avg fail_ratio rps.
    /// Any that fails makes the exit code 99. Repeatable.
    #[arg(long, value_name = "EXPR", value_parser = Threshold::parse)]
    #[serde(serialize_with = "texts")]
    pub threshold: Vec<Threshold>,

    /// Check the thresholds every second once the run is 5 s old, and stop
    /// the run (exit code 99) as soon as one fails.
    #[arg(long)]
    pub abort_on_threshold: bool,

    /// Also give every (type, name) a row per second in the history, not only Aggregated.
    #[arg(long)]
    pub csv_full_history: bool,

    #[command(flatten)]
    #[serde(flatten)]
    pub guest: GuestSpec,
}

/// What every guest instance is given: target, parameters, limits, grants.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct GuestSpec {
    /// The target: base URL for relative HTTP paths (http://127.0.0.1:8080), or
    /// any scheme://host:port a guest reads with `context::host`.
    #[arg(short = 'H', long, value_parser = parse_host)]
    #[serde(serialize_with = "optional_text", skip_serializing_if = "Option::is_none")]
    pub host: Option<Url>,

    /// Also allow connecting to these (besides --host): a name, *.domain, an
    /// address, a network like 10.0.0.0/8, each with an optional :port; repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub allow_host: Vec<String>,

    /// Do not verify TLS certificates (HTTPS, gRPC, TCP with TLS), e.g. a
    /// staging server's self-signed one; anyone on the path could then read
    /// and change the traffic.
    #[arg(long, visible_alias = "insecure-skip-tls-verify")]
    pub insecure: bool,

    /// Timeout of one request (HTTP, gRPC, sockets) when the guest gives none.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    #[serde(serialize_with = "duration")]
    pub timeout: Duration,

    /// A run parameter the guest reads with `param(KEY)`; repeatable.
    #[arg(short = 'e', long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    #[serde(rename = "param", serialize_with = "param_map")]
    pub params: Vec<(String, String)>,

    /// Largest linear memory one user may grow to, e.g. 64MiB; past it the user traps.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub max_memory: usize,

    /// Largest HTTP response body read, e.g. 64MiB; a larger one fails the request.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub max_body: usize,

    /// Longest a task (or on-start / on-stop) may run before it is interrupted.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    #[serde(serialize_with = "duration")]
    pub task_timeout: Duration,

    /// Grant imports beyond the defaults, by prefix (e.g. wasi:keyvalue); repeatable.
    #[arg(long, value_name = "PREFIX")]
    pub allow_import: Vec<String>,

    /// Seed of the users' random generators [default: random].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,

    /// Lowest level of guest log lines that are printed.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub loglevel: LogLevel,

    #[command(flatten)]
    #[serde(flatten)]
    pub budgets: Budgets,
}

/// Guest log levels, lowest first.
#[derive(Debug, Clone, Copy, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl From<LogLevel> for Level {
    fn from(level: LogLevel) -> Level {
        match level {
            LogLevel::Debug => Level::Debug,
            LogLevel::Info => Level::Info,
            LogLevel::Warn => Level::Warn,
            LogLevel::Error => Level::Error,
        }
    }
}

impl Default for RunSpec {
    /// The spec of a run given no options: clap's defaults, so they are
    /// written down once.
    fn default() -> Self {
        match RunSpec::from_options(&serde_json::Map::new()) {
            Ok(spec) => spec,
            Err(error) => unreachable!("no options cannot be wrong: {error}"),
        }
    }
}

impl GuestSpec {
    /// `-e` parameters as a map; a later KEY wins.
    pub fn param_map(&self) -> HashMap<String, String> {
        self.params.iter().cloned().collect()
    }
}

/// A run option that is missing, unknown or has a bad value, e.g.
/// "`users`: invalid value 'many': invalid digit found in string".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadOption(pub String);

impl RunSpec {
    /// Parses options by name (`"users": 10`, `"run-time": "5m"`,
    /// `"param": {"K": "V"}`) as the flags they name.
    pub fn from_options(options: &serde_json::Map<String, Value>) -> Result<RunSpec, BadOption> {
        let command = RunSpec::augment_args(clap::Command::new("run").no_binary_name(true));
        let mut flags = Vec::new();
        for (key, value) in options {
            let arg = option_arg(&command, key)
                .ok_or_else(|| BadOption(format!("`{key}` is not a run option")))?;
            let values = option_values(value).map_err(|e| BadOption(format!("`{key}`: {e}")))?;
            flags.extend(flags_for(arg, &values).map_err(BadOption)?);
        }
        let matches =
            command.try_get_matches_from(flags).map_err(|e| BadOption(option_error(&e)))?;
        RunSpec::from_arg_matches(&matches).map_err(|e| BadOption(option_error(&e)))
    }

    /// The spec as options, the inverse of [`RunSpec::from_options`].
    pub fn to_options(&self) -> serde_json::Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(options)) => options,
            _ => unreachable!("a spec serializes to an object"),
        }
    }
}

impl<'de> Deserialize<'de> for RunSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let options = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        RunSpec::from_options(&options).map_err(serde::de::Error::custom)
    }
}

/// The argument an option key names: its long flag, `_` taken as `-`.
pub(crate) fn option_arg<'a>(command: &'a clap::Command, key: &str) -> Option<&'a Arg> {
    let key = key.replace('_', "-");
    command.get_arguments().find(|arg| option_key(arg).as_deref() == Some(key.as_str()))
}

/// The name an argument has as an option: its long flag, or a positional
/// argument's id (`component`).
pub(crate) fn option_key(arg: &Arg) -> Option<String> {
    match arg.get_long() {
        Some("help") => None,
        Some(long) => Some(long.to_owned()),
        None => arg.is_positional().then(|| arg.get_id().as_str().to_owned()),
    }
}

/// An option's value as the strings its flag takes: scalars as text, each
/// item of a list, and `KEY=VALUE` for each entry of a table. `null` is no
/// value.
pub(crate) fn option_values(value: &Value) -> Result<Vec<String>, String> {
    Ok(match value {
        Value::Null => vec![],
        Value::String(text) => vec![text.clone()],
        Value::Number(number) => vec![number.to_string()],
        Value::Bool(flag) => vec![flag.to_string()],
        Value::Array(items) => {
            let mut values = Vec::new();
            for item in items {
                if item.is_array() || item.is_object() {
                    return Err("a list holds plain values".into());
                }
                values.extend(option_values(item)?);
            }
            values
        }
        // `param = {K = "V"}`.
        Value::Object(table) => table
            .iter()
            .map(|(key, value)| Ok(format!("{key}={}", option_values(value)?.join(","))))
            .collect::<Result<_, String>>()?,
    })
}

/// The flags that give `arg` these values.
pub(crate) fn flags_for(arg: &Arg, values: &[String]) -> Result<Vec<String>, String> {
    let name = option_key(arg).unwrap_or_default();
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return Ok(match values {
            [] => vec![],
            [value] if is_true(value).map_err(|e| format!("`{name}`: {e}"))? => {
                vec![format!("--{name}")]
            }
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

/// clap's message about an option as one line that names options as keys
/// (`users`, not `--users <USERS>`), for callers that did not type flags.
fn option_error(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let line = rendered.lines().next().unwrap_or_default().trim_start_matches("error: ");
    let mut text = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("'--") {
        text.push_str(&rest[..at]);
        let flag = &rest[at + 3..];
        let end = flag.find('\'').unwrap_or(flag.len());
        let name = flag[..end].split([' ', '=']).next().unwrap_or_default();
        text.push_str(&format!("`{name}`"));
        rest = flag.get(end + 1..).unwrap_or_default();
    }
    text.push_str(rest);
    text
}

/// Parses a duration like 30s, 5m or 1h30m.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration like 30s, 5m or 1h30m ({e})"))
}

fn parse_spawn_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("`{text}` is not a positive number of users per second")),
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    crate::scheduler::parse_rate(text, false)
}

/// Parses a target URL, which must name a host.
pub fn parse_host(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{text}` has no host; give scheme://host[:port]"));
    }
    Ok(url)
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// Writes a duration as a flag takes it, e.g. `1m 30s`.
pub(crate) fn duration<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_duration(*value))
}

fn optional_duration<S: Serializer>(
    value: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => duration(value, serializer),
        None => serializer.serialize_none(),
    }
}

fn optional_text<T: std::fmt::Display, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

fn texts<T: std::fmt::Display, S: Serializer>(
    values: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(ToString::to_string))
}

fn param_map<S: Serializer>(params: &[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
    let map: BTreeMap<&str, &str> =
        params.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
    serializer.collect_map(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(options: Value) -> Result<RunSpec, BadOption> {
        match options {
            Value::Object(options) => RunSpec::from_options(&options),
            _ => unreachable!(),
        }
    }

    #[test]
    fn durations_accept_locust_style_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn hosts_must_be_urls_with_a_host() {
        assert!(parse_host("http://127.0.0.1:8080").is_ok());
        assert!(parse_host("tcp://127.0.0.1:6379").is_ok());
        assert!(parse_host("http://").is_err());
        assert!(parse_host("127.0.0.1:8080").is_err());
    }

    #[test]
    fn params_split_on_the_first_equals() {
        assert_eq!(parse_param("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert!(parse_param("=x").is_err());
        assert!(parse_param("novalue").is_err());
    }

    #[test]
    fn options_mean_what_the_flags_mean() {
        let parsed = spec(json!({
            "users": 10, "spawn_rate": "2.5", "run-time": "1m30s", "param": {"A": "1", "B": "x=y"},
            "threshold": ["p95<300ms"], "insecure": true, "host": "http://127.0.0.1:1",
            "max-memory": "32MiB", "tags": ["a", "b"], "seed": null,
        }))
        .unwrap();
        assert_eq!((parsed.users, parsed.spawn_rate), (Some(10), Some(2.5)));
        assert_eq!(parsed.run_time, Some(Duration::from_secs(90)));
        assert_eq!(parsed.guest.param_map().get("B").map(String::as_str), Some("x=y"));
        assert!(parsed.guest.insecure);
        assert_eq!(parsed.guest.max_memory, 32 << 20);
        assert_eq!(parsed.tags, ["a", "b"]);
        assert_eq!(parsed.guest.timeout, Duration::from_secs(60), "defaults fill the rest");
    }

    #[test]
    fn a_spec_survives_its_own_options() {
        let original = spec(json!({
            "users": 3, "stages": "10s:5,20s:0", "threshold": ["GET /a: p99<1s"],
            "param": {"K": "V"}, "allow-host": ["*.example.test"], "loglevel": "warn",
            "max-delay": "0s", "stop-timeout": "1m 30s",
        }))
        .unwrap();
        let options = original.to_options();
        let again = RunSpec::from_options(&options).unwrap();
        assert_eq!(again.to_options(), options);
        assert_eq!(options["stages"], "10s:5,20s:0");
        assert_eq!(options["stop-timeout"], "1m 30s");
        assert_eq!(again.guest.loglevel, LogLevel::Warn);
    }

    #[test]
    fn bad_options_are_named_by_key() {
        let error = |options| spec(options).unwrap_err().0;
        assert_eq!(error(json!({"userz": 1})), "`userz` is not a run option");
        let bad_value = error(json!({"users": "many"}));
        assert!(bad_value.starts_with("invalid value 'many' for `users`"), "{bad_value}");
        let conflict = error(json!({"rate": 5, "stages": "10s:5"}));
        assert!(conflict.contains("`rate`") && conflict.contains("`stages`"), "{conflict}");
        assert_eq!(error(json!({"insecure": "maybe"})), "`insecure`: `maybe` is not true or false");
        assert_eq!(error(json!({"tags": [["a"]]})), "`tags`: a list holds plain values");
    }

    #[test]
    fn every_option_has_one_name_in_flags_files_and_json() {
        let command = RunSpec::augment_args(clap::Command::new("run"));
        let written = RunSpec::default().to_options();
        for arg in command.get_arguments() {
            let Some(key) = option_key(arg) else { continue };
            let optional = !arg.is_required_set() && arg.get_default_values().is_empty();
            let listed = written.contains_key(&key);
            // Options with defaults are always written; unset optional ones are left out.
            assert!(listed || optional, "`{key}` is missing from a default spec's options");
        }
        for key in written.keys() {
            assert!(option_arg(&command, key).is_some(), "`{key}` is written but is no flag");
        }
    }
}
