//! The kernel limits that many users run into, checked before a run so
//! that a large one fails with a hint, not deep inside wasmtime or hyper.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Memory maps one user of `wasmload run` takes: its fiber stack and that
/// stack's guard page, its linear memory and that memory's guard region
/// (4, measured on Linux with 2,000 users), plus one to spare.
pub const MAPS_PER_USER: u64 = 5;
/// Memory maps one instance slot of a server's shared pool takes: its stack
/// and guard page are mapped when the server starts (2), and a live user
/// adds 4 more, its memory image mapped copy-on-write (measured: 42,104
/// maps idle with 21,020 slots; 20,240 more with 5,000 users), plus one.
pub const MAPS_PER_SHARED_SLOT: u64 = 7;
/// Maps the process needs whatever the users: binary, libraries, heap
/// (large allocations are maps of their own), thread stacks.
const BASE_MAPS: u64 = 4096;
/// Open files the process needs besides one socket per user.
const BASE_FILES: u64 = 256;

/// A limit too low for the run asked for.
#[derive(Debug, thiserror::Error)]
#[error(
    "{users} users need about {needed} memory maps, but vm.max_map_count is {limit}; \
     raise it with `sudo sysctl -w vm.max_map_count={suggested}` (or run fewer users)"
)]
pub struct MapCountTooLow {
    users: u32,
    needed: u64,
    limit: u64,
    suggested: u64,
}

/// Refuses `users` live users, each taking `maps_per_user` memory maps,
/// when the kernel's `vm.max_map_count` is too low for them. Without that,
/// instantiation (or any allocation) fails part way through with an
/// out-of-memory error that does not say why.
pub fn check_map_count(users: u32, maps_per_user: u64) -> Result<(), MapCountTooLow> {
    match map_count_limit() {
        Some(limit) => check_map_count_against(users, maps_per_user, limit),
        // Not Linux, or no /proc: nothing to check.
        None => Ok(()),
    }
}

/// The most users of `maps_per_user` maps each that `vm.max_map_count`
/// allows, at most `ceiling`.
pub fn users_the_maps_allow(maps_per_user: u64, ceiling: u32) -> u32 {
    let Some(limit) = map_count_limit() else {
        return ceiling;
    };
    let users = limit.saturating_sub(BASE_MAPS) / maps_per_user;
    u32::try_from(users).unwrap_or(u32::MAX).clamp(1, ceiling)
}

fn map_count_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count").ok()?.trim().parse().ok()
}

fn check_map_count_against(
    users: u32,
    maps_per_user: u64,
    limit: u64,
) -> Result<(), MapCountTooLow> {
    let needed = u64::from(users) * maps_per_user + BASE_MAPS;
    if needed <= limit {
        return Ok(());
    }
    let suggested = needed.next_power_of_two().max(1 << 20);
    Err(MapCountTooLow { users, needed, limit, suggested })
}

/// Raises the soft open-files limit to the hard one, as a load generator
/// needs a socket per user. Returns a warning when even the hard limit is
/// below what `users` each holding a connection need.
pub fn raise_open_files(users: u32) -> Option<String> {
    raise_soft_open_files();
    let allowed = getrlimit(Resource::Nofile).current?;
    open_files_warning(users, allowed)
}

/// Raises the soft open-files limit to the hard one.
pub fn raise_soft_open_files() {
    if let Rlimit { current: Some(soft), maximum: Some(hard) } = getrlimit(Resource::Nofile) {
        if soft < hard {
            // A lower soft limit would only make later sockets fail.
            let _ =
                setrlimit(Resource::Nofile, Rlimit { current: Some(hard), maximum: Some(hard) });
        }
    }
}

/// The most users, each holding a connection, that one `wasmload run`
/// process holds here: what its open-files limit (the hard one, which it
/// raises the soft one to) and `vm.max_map_count` allow.
pub fn users_per_process() -> u32 {
    let files = getrlimit(Resource::Nofile).maximum.unwrap_or(u64::MAX);
    let by_files = u32::try_from(files.saturating_sub(BASE_FILES)).unwrap_or(u32::MAX);
    users_the_maps_allow(MAPS_PER_USER, by_files.max(1))
}

/// The open files this process may have now (the soft limit).
pub fn open_files() -> u64 {
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

fn open_files_warning(users: u32, allowed: u64) -> Option<String> {
    let needed = u64::from(users) + BASE_FILES;
    (allowed < needed).then(|| {
        format!(
            "wasmload: at most {allowed} open files (ulimit -n); {users} users that each hold \
             a connection need about {needed}, so connections past that will fail"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_maps_pass_and_too_few_say_how_to_raise_the_limit() {
        assert!(check_map_count_against(10_000, MAPS_PER_USER, 65_530).is_ok());
        assert!(check_map_count_against(10_000, MAPS_PER_SHARED_SLOT, 65_530).is_err());
        let error =
            check_map_count_against(100_000, MAPS_PER_USER, 65_530).unwrap_err().to_string();
        assert!(error.contains("100000 users need about 504096 memory maps"), "{error}");
        assert!(error.contains("vm.max_map_count is 65530"), "{error}");
        assert!(error.contains("sudo sysctl -w vm.max_map_count=1048576"), "{error}");
    }

    #[test]
    fn open_files_warn_only_below_one_per_user() {
        assert_eq!(open_files_warning(1_000, 20_000), None);
        let warning = open_files_warning(100_000, 20_000).unwrap_or_default();
        assert!(warning.contains("at most 20000 open files"), "{warning}");
    }
}
