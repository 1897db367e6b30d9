//! What a guest may do: the imports it is granted, where it may connect,
//! and how much memory and time each user gets. Shared policy the engine,
//! the users and every protocol consult.

mod budget;
mod network;

pub use budget::{Budgets, ConnectionPermit, Exceeded, HostBytes, RunBudget, UserBudget};
pub use network::{is_public, NetworkPolicy};

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use wasmtime::component::{Resource, ResourceTable};

/// Imports every user is granted: our interfaces, and the parts of WASI
/// that carry no ambient authority. The WASI context has no preopened
/// directories, no environment and no arguments, and its socket check
/// permits no address, so `wasi:filesystem` finds no file and
/// `wasi:sockets` reaches no host: users talk to the network only through
/// wasmload's protocols (wasi:http goes through the user's session). The
/// Python and JavaScript runtimes import both whether they use them or not.
const GRANTED: [&str; 8] = [
    "wasmload:user/",
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:http/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// The run's guest policy.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// `--allow-import` prefixes granted on top of the defaults.
    pub allowed_imports: Vec<String>,
    /// Largest linear memory a user may grow to, in bytes.
    pub max_memory: usize,
    /// Longest a task (or `on-start` / `on-stop`) may run.
    pub task_timeout: Duration,
    /// Where users may connect.
    pub network: Arc<NetworkPolicy>,
    /// Largest HTTP response body read for a user, in bytes.
    pub max_body: usize,
}

/// Whether an import is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Granted to every user.
    Default,
    /// Granted by `--allow-import`.
    Flag,
    /// Not granted: the component is refused.
    Denied,
}

impl Sandbox {
    /// Whether `import` (e.g. `wasi:filesystem/types@0.2.0`) is granted.
    pub fn grant(&self, import: &str) -> Grant {
        if GRANTED.iter().any(|prefix| import.starts_with(prefix)) {
            Grant::Default
        } else if self.allowed_imports.iter().any(|prefix| import.starts_with(prefix.as_str())) {
            Grant::Flag
        } else {
            Grant::Denied
        }
    }

    /// Refuses a component with an import that is not granted, naming it.
    pub fn check_imports<'a>(&self, imports: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let denied: Vec<&str> =
            imports.into_iter().filter(|import| self.grant(import) == Grant::Denied).collect();
        if let Some(first) = denied.first() {
            let interface = first.split('/').next().unwrap_or(first);
            bail!(
                "it imports {}, which users are not granted; review it with `wasmload inspect`, \
                 then allow it with --allow-import {interface}",
                denied.join(", ")
            );
        }
        Ok(())
    }
}

/// A resource table of one user's that holds at most `limit` entries
/// (`--max-resources`).
pub fn budgeted_table(limit: u32) -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(limit as usize);
    table
}

/// Puts `value` in a [`budgeted_table`]; when it is full the user traps,
/// with a message naming `what` it holds and the flag (a user hoarding
/// handles is broken, not unlucky).
pub fn push_budgeted<T: Send + 'static>(
    table: &mut ResourceTable,
    value: T,
    what: &str,
) -> wasmtime::Result<Resource<T>> {
    let limit = table.max_capacity();
    table.push(value).map_err(|_| {
        wasmtime::Error::msg(format!(
            "the user holds {limit} live {what}, all --max-resources allows; drop some"
        ))
    })
}

/// Parses a size like `64MiB`, `512MB`, `1GiB` or `65536` (bytes).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let multiplier: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return Err(format!("`{text}` is not a size like 64MiB, 512MB or 1GiB")),
    };
    number
        .parse::<usize>()
        .ok()
        .and_then(|number| number.checked_mul(multiplier))
        .filter(|bytes| *bytes > 0)
        .ok_or_else(|| format!("`{text}` is not a size like 64MiB, 512MB or 1GiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(allowed: &[&str]) -> Sandbox {
        Sandbox {
            allowed_imports: allowed.iter().map(|s| (*s).to_owned()).collect(),
            max_memory: 1 << 20,
            task_timeout: Duration::from_secs(1),
            network: Arc::default(),
            max_body: 1 << 20,
        }
    }

    #[test]
    fn only_harmless_imports_are_granted_by_default() {
        let default = sandbox(&[]);
        assert_eq!(default.grant("wasmload:user/http@0.1.0"), Grant::Default);
        assert_eq!(default.grant("wasi:io/streams@0.2.6"), Grant::Default);
        assert_eq!(default.grant("wasi:filesystem/types@0.2.0"), Grant::Default);
        assert_eq!(default.grant("wasi:sockets/tcp@0.2.0"), Grant::Default);
        assert_eq!(default.grant("evil:corp/backdoor"), Grant::Denied);
        assert_eq!(default.grant("wasi:keyvalue/store@0.2.0"), Grant::Denied);
        let error =
            default.check_imports(["wasi:io/poll@0.2.0", "wasi:keyvalue/store@0.2.0"]).unwrap_err();
        assert!(error.to_string().contains("wasi:keyvalue/store@0.2.0"), "{error}");
        assert!(error.to_string().contains("--allow-import wasi:keyvalue"), "{error}");
        let allowed = sandbox(&["wasi:keyvalue"]);
        assert_eq!(allowed.grant("wasi:keyvalue/store@0.2.0"), Grant::Flag);
        assert!(allowed.check_imports(["wasi:keyvalue/store@0.2.0"]).is_ok());
    }

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1MiB").is_err());
    }
}
