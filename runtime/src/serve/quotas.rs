//! A tenant's quotas, set by the admin, and the check of a run against
//! them. Quotas are named as the run options they bound (`users`, `rate`,
//! `run-time`, `max-memory`, ...), plus `concurrent-runs`,
//! `component-size` and `stored-runs`. A run may ask for less than its
//! quota, never more: each breach is refused with the quota's name.

use std::net::IpAddr;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use crate::run::spec::{duration, parse_duration};
use crate::run::RunSpec;
use crate::sandbox::{parse_size, NetworkPolicy};
use crate::scheduler::StageUnit;

/// What a tenant may use. Every field may be left out: it then takes the
/// server's default (shown by `GET /v1/tenants`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Quotas {
    /// Runs queued or running at once.
    pub concurrent_runs: u32,
    /// Users one run may have at once (its ceiling: `users`, `max-users`,
    /// the peak of user `stages`).
    pub users: u32,
    /// Iterations per second of an open-model run.
    pub rate: f64,
    /// The longest a run may last; a run that gives no run time gets this.
    #[serde(serialize_with = "duration", deserialize_with = "duration_text")]
    #[schema(value_type = String, example = "1h")]
    pub run_time: Duration,
    /// Largest linear memory of one user.
    #[serde(deserialize_with = "size_text")]
    #[schema(value_type = u64)]
    pub max_memory: usize,
    /// Longest task.
    #[serde(serialize_with = "duration", deserialize_with = "duration_text")]
    #[schema(value_type = String, example = "60s")]
    pub task_timeout: Duration,
    /// Hosts runs may target, as `allow-host` patterns (names, `*.domain`,
    /// addresses, networks, each with an optional port). Empty: public
    /// addresses only, never loopback or private networks.
    pub allow_host: Vec<String>,
    /// Whether runs may skip TLS certificate checks (`insecure`).
    pub insecure: bool,
    /// Largest component upload, in bytes.
    #[serde(deserialize_with = "size_text")]
    #[schema(value_type = u64)]
    pub component_size: usize,
    /// Runs kept (delete old ones to make room).
    pub stored_runs: u64,
    /// Ceilings of the run budgets of the same names.
    pub max_names: u32,
    pub max_resources: u32,
    #[serde(deserialize_with = "size_text")]
    #[schema(value_type = u64)]
    pub max_host_memory: usize,
    #[serde(deserialize_with = "size_text")]
    #[schema(value_type = u64)]
    pub max_call_size: usize,
    #[serde(deserialize_with = "size_text")]
    #[schema(value_type = u64)]
    pub max_log_rate: usize,
    pub max_user_connections: u32,
    pub max_run_connections: u32,
}

impl Default for Quotas {
    /// A tenant's quotas when the admin sets none: the run defaults, a
    /// hour's run of up to 1,000 users, public targets only.
    fn default() -> Self {
        let spec = RunSpec::default();
        let budgets = spec.guest.budgets;
        Quotas {
            concurrent_runs: 2,
            users: 1000,
            rate: 1000.0,
            run_time: Duration::from_secs(3600),
            max_memory: spec.guest.max_memory,
            task_timeout: spec.guest.task_timeout,
            allow_host: Vec::new(),
            insecure: false,
            component_size: 64 << 20,
            stored_runs: 100,
            max_names: budgets.max_names,
            max_resources: budgets.max_resources,
            max_host_memory: budgets.max_host_memory,
            max_call_size: budgets.max_call_size,
            max_log_rate: budgets.max_log_rate,
            max_user_connections: budgets.max_user_connections,
            max_run_connections: 10_000,
        }
    }
}

impl Quotas {
    /// The quotas of the token-less local tenant: any host, any run the
    /// server can hold.
    pub fn local(max_users: u32, max_memory: usize) -> Quotas {
        Quotas {
            concurrent_runs: 16,
            users: max_users,
            rate: f64::MAX,
            run_time: Duration::from_secs(7 * 24 * 3600),
            max_memory,
            allow_host: vec!["0.0.0.0/0".into(), "::/0".into()],
            insecure: true,
            component_size: 1 << 30,
            stored_runs: 10_000,
            ..Quotas::default()
        }
    }

    /// The quotas of `given` (a JSON object; `None`: all defaults). The
    /// users and memory a tenant gets when it names none are the server's,
    /// if the server holds less than the defaults.
    pub fn from_given(
        given: Option<&serde_json::Value>,
        max_users: u32,
        max_memory: usize,
    ) -> Result<Quotas, ApiError> {
        let named = |key: &str| given.and_then(|given| given.get(key)).is_some();
        let mut quotas: Quotas = match given {
            Some(given) => serde_json::from_value(given.clone())
                .map_err(|e| ApiError::bad_request(format!("quotas: {e}")))?,
            None => Quotas::default(),
        };
        if !named("users") {
            quotas.users = quotas.users.min(max_users);
        }
        if !named("max-memory") {
            quotas.max_memory = quotas.max_memory.min(max_memory);
        }
        quotas.check_server(max_users, max_memory)?;
        Ok(quotas)
    }

    /// Refuses quotas the server itself cannot honour.
    pub fn check_server(&self, max_users: u32, max_memory: usize) -> Result<(), ApiError> {
        if self.users > max_users {
            return Err(ApiError::bad_request(format!(
                "quota users {} is above the server's --max-users {max_users}",
                self.users
            )));
        }
        if self.max_memory > max_memory {
            return Err(ApiError::bad_request(format!(
                "quota max-memory {} is above the server's --max-memory {max_memory}",
                self.max_memory
            )));
        }
        NetworkPolicy::new(None, &self.allow_host)
            .map_err(|e| ApiError::bad_request(format!("quota allow-host: {e:#}")))?;
        Ok(())
    }

    /// Fits `spec` to these quotas: a run with no end gets the longest run
    /// time; an open-model or shaped run with no `max-users` gets at most
    /// `users`. Anything asked above a quota is refused, naming it.
    pub async fn fit(&self, spec: &mut RunSpec, shaped: bool) -> Result<(), ApiError> {
        if spec.run_time.is_none() && spec.stages.is_none() {
            spec.run_time = Some(self.run_time);
        }
        let open = spec.rate.is_some()
            || spec.stages.as_ref().is_some_and(|stages| stages.unit == StageUnit::Rate);
        if (open || shaped) && spec.max_users.is_none() {
            spec.max_users = Some(spec.users.unwrap_or(1).max(1000).min(self.users));
        }
        let run_time = spec.stages.as_ref().map(|stages| stages.total()).or(spec.run_time);
        if let Some(run_time) = run_time.filter(|run_time| *run_time > self.run_time) {
            return Err(over(
                "run-time",
                humantime::format_duration(run_time),
                humantime::format_duration(self.run_time),
            ));
        }
        let users = crate::run::reserved_users(spec, shaped);
        if users > self.users {
            return Err(over("users", users, self.users));
        }
        let rate = match &spec.stages {
            Some(stages) if stages.unit == StageUnit::Rate => Some(stages.peak()),
            _ => spec.rate,
        };
        if let Some(rate) = rate.filter(|rate| *rate > self.rate) {
            return Err(over("rate", rate, self.rate));
        }
        let guest = &spec.guest;
        let budgets = &guest.budgets;
        let sizes = [
            ("max-memory", guest.max_memory, self.max_memory),
            ("max-host-memory", budgets.max_host_memory, self.max_host_memory),
            ("max-call-size", budgets.max_call_size, self.max_call_size),
            ("max-log-rate", budgets.max_log_rate, self.max_log_rate),
        ];
        for (name, asked, quota) in sizes {
            if asked > quota {
                return Err(over(name, asked, quota));
            }
        }
        let counts = [
            ("max-names", budgets.max_names, self.max_names),
            ("max-resources", budgets.max_resources, self.max_resources),
            ("max-user-connections", budgets.max_user_connections, self.max_user_connections),
        ];
        for (name, asked, quota) in counts {
            if asked > quota {
                return Err(over(name, asked, quota));
            }
        }
        if let Some(asked) =
            budgets.max_run_connections.filter(|asked| *asked > self.max_run_connections)
        {
            return Err(over("max-run-connections", asked, self.max_run_connections));
        }
        if guest.task_timeout > self.task_timeout {
            return Err(over(
                "task-timeout",
                humantime::format_duration(guest.task_timeout),
                humantime::format_duration(self.task_timeout),
            ));
        }
        if guest.insecure && !self.insecure {
            return Err(ApiError::forbidden(
                "`insecure` is not allowed for this tenant (quota insecure)".into(),
            ));
        }
        if let Some(import) = guest.allow_import.first() {
            return Err(ApiError::forbidden(format!(
                "`allow-import {import}`: runs on this server get the default imports only"
            )));
        }
        self.check_hosts(spec).await?;
        let connections = &mut spec.guest.budgets.max_run_connections;
        connections.get_or_insert(self.max_run_connections);
        Ok(())
    }

    /// Refuses a run whose `host` or `allow-host` reach past the tenant's
    /// `allow-host`.
    async fn check_hosts(&self, spec: &RunSpec) -> Result<(), ApiError> {
        let allowed = NetworkPolicy::new(None, &self.allow_host)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("quota allow-host: {e:#}")))?;
        let mut wanted: Vec<(String, Option<u16>)> = Vec::new();
        if let Some(url) = &spec.guest.host {
            let host = url.host_str().unwrap_or_default();
            wanted.push((
                host.trim_start_matches('[').trim_end_matches(']').to_owned(),
                url.port_or_known_default(),
            ));
        }
        for pattern in &spec.guest.allow_host {
            let (host, port) = NetworkPolicy::split_pattern(pattern)
                .map_err(|e| ApiError::bad_request(format!("allow-host {pattern}: {e:#}")))?;
            wanted.push((host.to_owned(), port));
        }
        for (host, port) in wanted {
            if !covered(&allowed, &self.allow_host, &host, port).await {
                let reach = if self.allow_host.is_empty() {
                    "this tenant may target public addresses only".to_owned()
                } else {
                    format!("this tenant may target {}", self.allow_host.join(", "))
                };
                return Err(ApiError::forbidden(format!(
                    "host `{host}` is not allowed: {reach} (quota allow-host)"
                )));
            }
        }
        Ok(())
    }
}

/// Whether a run may name `host` (on `port`, or every port): a name or
/// address the tenant's patterns allow, a network inside one of theirs, or
/// (for a tenant limited to public addresses) a name that resolves to
/// public addresses only, or such an address.
async fn covered(
    allowed: &NetworkPolicy,
    patterns: &[String],
    host: &str,
    port: Option<u16>,
) -> bool {
    let ports = |check: &dyn Fn(u16) -> bool| match port {
        Some(port) => check(port),
        // No port: every port must be allowed; the first and last stand for all.
        None => check(1) && check(65535),
    };
    if let Ok(net) = host.parse::<ipnet::IpNet>() {
        return ports(&|port| allowed.covers_network(net, port));
    }
    if ports(&|port| allowed.check_target(host, port).is_ok()) {
        return true;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return patterns.is_empty() && is_public(ip);
    }
    // A name the patterns do not list: allowed when all it resolves to is.
    let Ok(found) = tokio::net::lookup_host((host, 0)).await else {
        return false;
    };
    let found: Vec<IpAddr> = found.map(|address| address.ip()).collect();
    !found.is_empty()
        && found.iter().all(|ip| {
            ports(&|port| allowed.check_target(&ip.to_string(), port).is_ok())
                || (patterns.is_empty() && is_public(*ip))
        })
}

fn is_public(ip: IpAddr) -> bool {
    crate::sandbox::is_public(ip)
}

fn over(quota: &str, asked: impl std::fmt::Display, limit: impl std::fmt::Display) -> ApiError {
    ApiError::quota(format!("{quota} {asked} is above this tenant's quota of {limit}"))
}

/// A size as a number of bytes or text like `64MiB`.
fn size_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(number) => number
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| D::Error::custom("a size is a whole number of bytes")),
        serde_json::Value::String(text) => parse_size(&text).map_err(D::Error::custom),
        _ => Err(D::Error::custom("a size is bytes or text like 64MiB")),
    }
}

/// A duration as text like `30s`, `1h`.
fn duration_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(D::Error::custom)
}
