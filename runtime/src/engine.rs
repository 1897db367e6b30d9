//! The wasmtime engine, and loading a user component into it.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::UserPre;
use crate::protocols;
use crate::user::UserState;

/// A component's identity: the sha256 of its bytes, in hex.
pub fn digest(bytes: &[u8]) -> String {
    crate::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// How often a running guest yields back to the scheduler.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Largest memory image copied into each instance rather than mapped.
const COPY_MEMORY_IMAGE_UP_TO: u64 = 1 << 20;

/// The process's wasmtime engine: one pooling allocator sized for every
/// user instance the process may hold at once, one linker with every host
/// interface, one epoch ticker. Runs of different components share it.
pub struct Engine {
    engine: wasmtime::Engine,
    linker: Linker<UserState>,
    limits: EngineLimits,
    _ticker: EpochTicker,
}

/// What the engine's instance pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineLimits {
    /// User instances at once, every run together.
    pub instances: u32,
    /// Slots each instance may use; a component needing more is refused.
    pub per_instance: Slots,
    /// Largest linear memory of any user, in bytes.
    pub max_memory: usize,
    /// Map memory images copy-on-write instead of copying them in.
    pub map_memory_images: bool,
}

/// Pool slots one user instance takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl Slots {
    /// Ample slots for the components of every SDK: a JavaScript user has
    /// 3 memories, a Python one some 40 core instances.
    pub const ANY_COMPONENT: Slots = Slots { core_instances: 256, memories: 8, tables: 16 };
}

impl Engine {
    /// An engine whose pool holds what `limits` says.
    pub fn new(limits: EngineLimits) -> Result<Arc<Engine>> {
        let engine = new_engine(&limits)?;
        let linker = new_linker(&engine)?;
        let ticker = EpochTicker::start(&engine)?;
        Ok(Arc::new(Engine { engine, linker, limits, _ticker: ticker }))
    }

    /// An engine sized exactly for `instances` of the component `bytes`,
    /// each with up to `max_memory` bytes of linear memory.
    pub fn for_component(bytes: &[u8], instances: u32, max_memory: usize) -> Result<Arc<Engine>> {
        let footprint = Footprint::of(bytes).context("it is not a valid component")?;
        Engine::new(EngineLimits {
            instances,
            per_instance: footprint.slots(),
            max_memory,
            map_memory_images: footprint.map_memory_image(),
        })
    }

    /// What the pool holds.
    pub fn limits(&self) -> EngineLimits {
        self.limits
    }
}

/// A compiled, linked user component, ready to instantiate many times.
pub struct UserComponent {
    engine: Arc<Engine>,
    pre: UserPre<UserState>,
    imports: Vec<String>,
    digest: String,
}

impl UserComponent {
    /// Reads the component at `path` and loads it into an engine of its
    /// own, sized for `instances` users of up to `max_memory` bytes each.
    pub fn load_file(
        path: &Path,
        instances: u32,
        max_memory: usize,
        cache: Option<&Path>,
    ) -> Result<Self> {
        let shown = path.display();
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
        check_component_header(&bytes).with_context(|| format!("{shown} cannot be run"))?;
        let engine = Engine::for_component(&bytes, instances, max_memory)
            .with_context(|| format!("{shown} cannot be run"))?;
        Self::load(&engine, &bytes, cache).with_context(|| format!("{shown} cannot be run"))
    }

    /// Compiles (or finds in `cache`) and links the component `bytes` for
    /// `engine`, refusing one whose instances would need more pool slots
    /// than the engine gives each.
    pub fn load(engine: &Arc<Engine>, bytes: &[u8], cache: Option<&Path>) -> Result<Self> {
        check_component_header(bytes)?;
        let footprint = Footprint::of(bytes).context("it is not a valid component")?;
        footprint.check_fits(&engine.limits.per_instance)?;
        let component =
            compile(&engine.engine, bytes, cache).context("it is not a valid component")?;
        check_pool_fits(&component, &engine.limits)?;
        let imports = component
            .component_type()
            .imports(&engine.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let instance_pre = engine
            .linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("it does not fit the `wasmload:user/user` world")?;
        let pre = UserPre::new(instance_pre)
            .map_err(anyhow::Error::from)
            .context("it does not fit the `wasmload:user/user` world")?;
        Ok(UserComponent { engine: Arc::clone(engine), pre, imports, digest: digest(bytes) })
    }

    /// The engine the component was compiled for.
    pub fn engine(&self) -> &wasmtime::Engine {
        &self.engine.engine
    }

    /// The names of the component's imports, e.g. `wasi:io/poll@0.2.6`.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// The sha256 of its bytes, in hex: its identity.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The pre-linked component.
    pub fn pre(&self) -> &UserPre<UserState> {
        &self.pre
    }
}

/// How much of a fiber stack stays resident, zeroed by hand, when it goes
/// back to the pool (an HTTP task touches two pages, its exchange running
/// on a task of its own: see `Session::send`); the rest is given back to
/// the kernel. The pool hands out the resident stack freed last
/// first, and keeps stacks resident only while the free ones hold fewer
/// than [`WARM_STACKS`] and a decommit batch (vendor/README.md): a user waking from
/// a rest mostly takes a warm stack, without the page faults, and memory
/// per user stays what it was.
const KEPT_STACK_BYTES: usize = 8 << 10;

/// How many given-back stacks stay warm (plus a decommit batch; see
/// vendor/README.md); the same cap holds for the pool's memory and table
/// slots kept warm for reuse. Users' tasks end in bursts, as many as one wake-up
/// serves, and a stack given back past this goes cold: with 100 (wasmtime's
/// default), 12,000 users making 18,000 requests a second took a page fault
/// per request; with 500, one every two, the start's included
/// (docs/BENCHMARKS.md, "Warm stacks for waking users"). At most 6 MiB.
const WARM_STACKS: u32 = 500;

fn new_engine(limits: &EngineLimits) -> Result<wasmtime::Engine> {
    let instances = limits.instances;
    let slots = limits.per_instance;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(slots.core_instances))
        .total_memories(instances.saturating_mul(slots.memories))
        .total_tables(instances.saturating_mul(slots.tables))
        .total_stacks(instances)
        .max_memory_size(limits.max_memory)
        // Users that end give their slots back in batches: one TLB
        // shootdown per batch, not per user (10k users end 0.3 s sooner).
        .decommit_batch_size(256)
        .async_stack_keep_resident(KEPT_STACK_BYTES)
        .max_unused_warm_slots(WARM_STACKS);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        // Reserve only what a user may use, so 100k users fit in the
        // address space; bounds checks replace the 4 GiB guard region.
        .memory_reservation(limits.max_memory as u64)
        .memory_guard_size(64 << 10)
        .memory_reservation_for_growth(0)
        .memory_init_cow(limits.map_memory_images)
        // A stack given back to the pool is zeroed (see KEPT_STACK_BYTES).
        .async_stack_zeroing(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    wasmtime::Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot create the wasm engine (is vm.max_map_count or the address space too small for this many users?)")
}

/// Compiles a component, or loads the machine code an earlier run left in
/// `cache` for the same bytes and engine settings (Python and JavaScript
/// components take seconds to compile). Entries are named by a hash of
/// both, written whole then renamed into place; one that will not load is
/// compiled again and replaced.
fn compile(engine: &wasmtime::Engine, bytes: &[u8], cache: Option<&Path>) -> Result<Component> {
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

fn new_linker(engine: &wasmtime::Engine) -> Result<Linker<UserState>> {
    let mut linker = Linker::<UserState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    protocols::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// What one instance of a component takes, read from its bytes before an
/// engine is made for it; the pool gives each user slots to match.
struct Footprint {
    /// Core instances: its modules and the adapter shims and glue that
    /// `wasm-tools component new` and the language toolchains add, nested
    /// components included (a Rust user makes a few, a Python user dozens).
    core_instances: u32,
    /// Linear memories and tables its modules define.
    memories: u32,
    tables: u32,
    /// Bytes of data segments copied into its memories.
    data_bytes: u64,
}

impl Footprint {
    fn of(bytes: &[u8]) -> Result<Self> {
        let mut footprint = Footprint { core_instances: 0, memories: 0, tables: 0, data_bytes: 0 };
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload? {
                wasmparser::Payload::InstanceSection(section) => {
                    for instance in section {
                        if let wasmparser::Instance::Instantiate { .. } = instance? {
                            footprint.core_instances += 1;
                        }
                    }
                }
                wasmparser::Payload::MemorySection(section) => {
                    footprint.memories += section.count()
                }
                wasmparser::Payload::TableSection(section) => footprint.tables += section.count(),
                wasmparser::Payload::DataSection(section) => {
                    for data in section {
                        footprint.data_bytes += data?.data.len() as u64;
                    }
                }
                _ => {}
            }
        }
        // A slot of each kind at least, so a pool is never empty.
        footprint.core_instances = footprint.core_instances.max(1);
        footprint.memories = footprint.memories.max(1);
        footprint.tables = footprint.tables.max(1);
        Ok(footprint)
    }

    /// The pool slots one instance may take. wasmtime also instantiates
    /// the adapter modules it generates between nested components (a
    /// JavaScript user has five), which are not in the bytes; a core
    /// instance slot is only a count, not memory, so leave ample room.
    fn slots(&self) -> Slots {
        Slots {
            core_instances: self.core_instances.saturating_mul(4).saturating_add(32),
            memories: self.memories,
            tables: self.tables,
        }
    }

    /// Refuses a component that needs more slots than `allowed`.
    fn check_fits(&self, allowed: &Slots) -> Result<()> {
        let needed = self.slots();
        if needed.core_instances > allowed.core_instances
            || needed.memories > allowed.memories
            || needed.tables > allowed.tables
        {
            bail!(
                "each of its users needs {} core instance, {} memory and {} table slots; \
                 this engine gives {}, {} and {}",
                needed.core_instances,
                needed.memories,
                needed.tables,
                allowed.core_instances,
                allowed.memories,
                allowed.tables
            );
        }
        Ok(())
    }

    /// Map the memory image copy-on-write rather than copy it in: for a
    /// small guest a copy is cheaper than an mmap, its TLB shootdowns and
    /// one more memory map per user (10k Rust users start about 15%
    /// sooner), but an interpreter's megabytes of heap snapshot are not:
    /// 1,000 Python users start in 2.8 s mapped and 29.8 s copied.
    fn map_memory_image(&self) -> bool {
        self.data_bytes > COPY_MEMORY_IMAGE_UP_TO
    }
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

/// The exact needs wasmtime computes, against the slots the pool gives
/// each instance: a module instantiated twice would need more than its
/// bytes define.
fn check_pool_fits(component: &Component, limits: &EngineLimits) -> Result<()> {
    let Some(needs) = component.resources_required() else {
        return Ok(());
    };
    let slots = limits.per_instance;
    if needs.num_memories > slots.memories || needs.num_tables > slots.tables {
        bail!(
            "it needs {} memories and {} tables per instance, more than the {} and {} each user may have",
            needs.num_memories,
            needs.num_tables,
            slots.memories,
            slots.tables
        );
    }
    let max_memory = limits.max_memory;
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
    fn start(engine: &wasmtime::Engine) -> Result<Self> {
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
