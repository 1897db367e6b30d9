//! The wasmtime engine, and loading a user component into it.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::UserPre;
use crate::protocols;
use crate::user::UserState;

/// How often a running guest yields back to the scheduler.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Pool slots per user, by kind. A Rust guest uses one memory, one or two
/// tables and a few core instances (its module plus adapter shims).
const CORE_INSTANCES_PER_USER: u32 = 8;
const MEMORIES_PER_USER: u32 = 2;
const TABLES_PER_USER: u32 = 4;

/// A compiled, linked user component, ready to instantiate many times.
pub struct UserComponent {
    engine: Engine,
    pre: UserPre<UserState>,
    imports: Vec<String>,
    _ticker: EpochTicker,
}

impl UserComponent {
    /// Compiles (or finds in `cache`) and links the component at `path` for
    /// up to `users` simultaneous instances (plus one for `describe`), each
    /// allowed `max_memory` bytes of linear memory.
    pub fn load(path: &Path, users: u32, max_memory: usize, cache: Option<&Path>) -> Result<Self> {
        let shown = path.display();
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
        check_component_header(&bytes).with_context(|| format!("{shown} cannot be run"))?;
        let engine = new_engine(users.saturating_add(1), max_memory)?;
        let component = compile(&engine, &bytes, cache)
            .with_context(|| format!("{shown} is not a valid component"))?;
        check_pool_fits(&component, max_memory)
            .with_context(|| format!("{shown} cannot be run"))?;
        let imports =
            component.component_type().imports(&engine).map(|(name, _)| name.to_owned()).collect();
        let linker = new_linker(&engine)?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{shown} does not fit the `wasmload:user/user` world"))?;
        let pre = UserPre::new(instance_pre)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{shown} does not fit the `wasmload:user/user` world"))?;
        let ticker = EpochTicker::start(&engine)?;
        Ok(UserComponent { engine, pre, imports, _ticker: ticker })
    }

    /// The engine the component was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The names of the component's imports, e.g. `wasi:io/poll@0.2.6`.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// The pre-linked component.
    pub fn pre(&self) -> &UserPre<UserState> {
        &self.pre
    }
}

fn new_engine(instances: u32, max_memory: usize) -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_USER))
        .total_memories(instances.saturating_mul(MEMORIES_PER_USER))
        .total_tables(instances.saturating_mul(TABLES_PER_USER))
        .total_stacks(instances)
        .max_memory_size(max_memory)
        // Users that end give their slots back in batches: one TLB
        // shootdown per batch, not per user (10k users end 0.3 s sooner).
        .decommit_batch_size(256);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        // Reserve only what a user may use, so 100k users fit in the
        // address space; bounds checks replace the 4 GiB guard region.
        .memory_reservation(max_memory as u64)
        .memory_guard_size(64 << 10)
        .memory_reservation_for_growth(0)
        // Copy data segments in rather than map the image per instance:
        // for small guests a copy is cheaper than an mmap, its TLB
        // shootdowns and one more memory map per user (10k users start
        // about 15% sooner).
        .memory_init_cow(false)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot create the wasm engine (is vm.max_map_count or the address space too small for this many users?)")
}

/// Compiles a component, or loads the machine code an earlier run left in
/// `cache` for the same bytes and engine settings (Python and JavaScript
/// components take seconds to compile). Entries are named by a hash of
/// both, written whole then renamed into place; one that will not load is
/// compiled again and replaced.
fn compile(engine: &Engine, bytes: &[u8], cache: Option<&Path>) -> Result<Component> {
    let from_binary = || Component::from_binary(engine, bytes).map_err(anyhow::Error::from);
    let Some(cache) = cache else {
        return from_binary();
    };
    let mut key = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut key);
    bytes.hash(&mut key);
    let entry = cache.join(format!("{:016x}.cwasm", key.finish()));
    if entry.exists() {
        // SAFETY: wasmtime runs this machine code as is. The entry is one
        // this program serialized for an engine with the same settings
        // (the name says so); wasmtime checks its header and version, and a
        // file that fails that check is compiled afresh below.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &entry) } {
            return Ok(component);
        }
    }
    let component = from_binary()?;
    // A cache that cannot be written only costs the next run a compile.
    if let Ok(code) = component.serialize() {
        let partial = entry.with_extension(format!("partial-{}", std::process::id()));
        let written = std::fs::create_dir_all(cache)
            .and_then(|()| std::fs::write(&partial, code))
            .and_then(|()| std::fs::rename(&partial, &entry));
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
    }
    Ok(component)
}

fn new_linker(engine: &Engine) -> Result<Linker<UserState>> {
    let mut linker = Linker::<UserState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    protocols::http::add_to_linker(&mut linker, |state| &mut state.http)?;
    protocols::grpc::add_to_linker(&mut linker, |state| &mut state.grpc)?;
    protocols::xmlrpc::add_to_linker(&mut linker, |state| &mut state.http)?;
    protocols::tcp::add_to_linker(&mut linker, |state| &mut state.tcp)?;
    protocols::udp::add_to_linker(&mut linker, |state| &mut state.udp)?;
    protocols::events::add_to_linker(&mut linker, |state| &mut state.events)?;
    protocols::context::add_to_linker(&mut linker, |state| &mut state.context)?;
    Ok(linker)
}

/// Refuses files that are not components before wasmtime gives a less
/// helpful message.
fn check_component_header(bytes: &[u8]) -> Result<()> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        bail!("it is not a WebAssembly file");
    }
    if bytes[4..8] == CORE_MODULE {
        bail!(
            "it is a core WebAssembly module, not a component: build it for \
             wasm32-wasip2, or wrap it with `wasm-tools component new`"
        );
    }
    Ok(())
}

fn check_pool_fits(component: &Component, max_memory: usize) -> Result<()> {
    let Some(needs) = component.resources_required() else {
        return Ok(());
    };
    if needs.num_memories > MEMORIES_PER_USER || needs.num_tables > TABLES_PER_USER {
        bail!(
            "it needs {} memories and {} tables per instance; wasmload allows {} and {}",
            needs.num_memories,
            needs.num_tables,
            MEMORIES_PER_USER,
            TABLES_PER_USER
        );
    }
    if needs.max_initial_memory_size.unwrap_or(0) > max_memory as u64 {
        bail!("its initial memory is larger than the {max_memory} bytes a user may have (--max-memory)");
    }
    Ok(())
}

/// Advances the engine's epoch every tick until dropped.
struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> Result<Self> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let engine = engine.clone();
        let stopped = Arc::clone(&stop);
        thread::Builder::new()
            .name("wasmload-epoch".into())
            .spawn(move || {
                while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .context("cannot start the epoch thread")?;
        Ok(EpochTicker { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
