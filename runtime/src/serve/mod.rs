//! `wasmload serve`: many tenants' load tests side by side in one process.
//! Tenants upload components and start runs over a JSON API (`/v1`, its
//! OpenAPI document at `/v1/openapi.json`); a web UI in the same binary
//! drives the same API. Everything is kept in SQLite in the data
//! directory; nothing else is needed. Each run is the library's run value
//! (`crate::run`) on the server's one engine; the sandbox and the
//! per-user budgets keep tenants apart.

mod auth;
mod dispatch;
mod error;
pub(crate) mod handlers;
mod quotas;
mod router;
mod store;

pub use auth::hash_token;
pub use quotas::Quotas;
pub use router::openapi;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::engine::{Engine, EngineLimits, Slots};
use crate::run::BadInput;
use dispatch::{blocking, Dispatcher};
use store::{ComponentFiles, SqliteStore, Store};

/// What the server is started with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Where the database and components are kept.
    pub data: PathBuf,
    /// Users every run together may have at once (`None`: as many as the
    /// kernel's map limit allows, at most 10,000).
    pub max_users: Option<u32>,
    /// Largest linear memory of any user.
    pub max_memory: usize,
    /// The admin token, if given (`WASMLOAD_ADMIN_TOKEN`); else one is made
    /// at the first start and printed once.
    pub admin_token: Option<String>,
}

/// Component uploads checked at once; each takes an instance of the pool.
const UPLOAD_SLOTS: u32 = 4;
/// The most users a server holds by default.
const DEFAULT_MAX_USERS: u32 = 10_000;

/// Instance slots of the pool for `max_users`: spare ones for each run's
/// scratch instance and for uploads.
fn pool_slots(max_users: u32) -> u32 {
    max_users.saturating_add(max_users / 20).saturating_add(UPLOAD_SLOTS + 16)
}

/// `--max-users`, or the most the kernel's map limit allows; a number the
/// limit cannot hold is refused with the sysctl that would.
fn max_users(asked: Option<u32>) -> Result<u32> {
    use crate::limits::{check_map_count, users_the_maps_allow, MAPS_PER_SHARED_SLOT};
    let max_users = match asked {
        Some(users) => users,
        None => {
            let slots = users_the_maps_allow(MAPS_PER_SHARED_SLOT, pool_slots(DEFAULT_MAX_USERS));
            // The inverse of `pool_slots`.
            let users = slots.saturating_sub(UPLOAD_SLOTS + 16).saturating_mul(20) / 21;
            users.clamp(1, DEFAULT_MAX_USERS)
        }
    };
    check_map_count(pool_slots(max_users), MAPS_PER_SHARED_SLOT)
        .map_err(|error| BadInput(anyhow::anyhow!("--max-users {max_users}: {error}")))?;
    Ok(max_users)
}

/// What every handler reaches.
#[derive(Clone)]
pub struct AppState(Arc<Service>);

/// The service's parts.
pub struct Service {
    store: Arc<dyn Store>,
    files: Arc<ComponentFiles>,
    dispatcher: Dispatcher,
    /// The hash of the admin token.
    admin_hash: String,
    /// Listening on loopback only: with no tenants made yet, requests
    /// without a token act for the local tenant.
    loopback: bool,
    /// Whether the admin has made a tenant (local mode ends then).
    has_tenants: AtomicBool,
    max_users: u32,
    max_memory: usize,
    uploads: tokio::sync::Semaphore,
    /// Live views open per tenant.
    live_views: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

/// Live views one tenant may have open at once.
pub(crate) const LIVE_VIEWS_PER_TENANT: u32 = 32;

/// One open live view, counted against its tenant until dropped.
pub(crate) struct LiveView {
    state: AppState,
    tenant: String,
}

impl Drop for LiveView {
    fn drop(&mut self) {
        let mut views = crate::sync::lock(&self.state.live_views);
        if let Some(count) = views.get_mut(&self.tenant) {
            *count -= 1;
            if *count == 0 {
                views.remove(&self.tenant);
            }
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Service;
    fn deref(&self) -> &Service {
        &self.0
    }
}

impl Service {
    /// Runs blocking store work off the async threads.
    async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(&self.store);
        blocking(move || work(store.as_ref())).await
    }

    /// Opens a live view for `tenant`, unless it has too many open.
    fn open_live_view(state: &AppState, tenant: &str) -> Option<LiveView> {
        let mut views = crate::sync::lock(&state.live_views);
        let count = views.entry(tenant.to_owned()).or_default();
        if *count >= LIVE_VIEWS_PER_TENANT {
            return None;
        }
        *count += 1;
        Some(LiveView { state: state.clone(), tenant: tenant.to_owned() })
    }

    /// Whether token-less requests act for the local tenant.
    fn local_mode(&self) -> bool {
        self.loopback && !self.has_tenants.load(Ordering::Acquire)
    }
}

/// Runs the server until interrupted.
pub async fn serve(config: ServeConfig) -> Result<()> {
    let max_users = max_users(config.max_users)?;
    crate::limits::raise_soft_open_files();
    std::fs::create_dir_all(&config.data)
        .with_context(|| format!("cannot create the data directory {}", config.data.display()))
        .map_err(BadInput)?;
    let store: Arc<dyn Store> = SqliteStore::open(&config.data).map_err(BadInput)?;
    let files = Arc::new(ComponentFiles::open(config.data.join("components"))?);
    let admin_hash = admin_token(store.as_ref(), config.admin_token.as_deref())?;
    let interrupted = store.interrupt_running(now())?;
    if interrupted > 0 {
        eprintln!("wasmload serve: {interrupted} runs were going when the server stopped; they are marked interrupted, with their last checkpoints");
    }
    let has_tenants = store.tenants()?.iter().any(|tenant| tenant.id != auth::LOCAL_TENANT);
    let engine = Engine::new(EngineLimits {
        instances: pool_slots(max_users),
        per_instance: Slots::ANY_COMPONENT,
        max_memory: config.max_memory,
        map_memory_images: true,
    })
    .map_err(BadInput)?;
    let dispatcher = Dispatcher::start(
        engine,
        Arc::clone(&store),
        Arc::clone(&files),
        config.data.join("compiled"),
        max_users,
    );
    let state = AppState(Arc::new(Service {
        store,
        files,
        dispatcher: dispatcher.clone(),
        admin_hash,
        loopback: config.listen.ip().is_loopback(),
        has_tenants: AtomicBool::new(has_tenants),
        max_users,
        max_memory: config.max_memory,
        uploads: tokio::sync::Semaphore::new(UPLOAD_SLOTS as usize),
        live_views: std::sync::Mutex::default(),
    }));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))
        .map_err(BadInput)?;
    let address = listener.local_addr().context("the listening address")?;
    println!(
        "wasmload serve: listening on http://{address} (data in {}, room for {max_users} users)",
        config.data.display()
    );
    if state.local_mode() {
        println!("wasmload serve: no tenants yet: requests without a token act for the local tenant (loopback only); open http://{address}/ in a browser");
    }
    let app = router::router(state);
    let stopping = tokio_util::sync::CancellationToken::new();
    let signalled = stopping.clone();
    let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        signalled.cancel();
    });
    // Open live views end only with their runs: give connections a moment
    // to finish, then go.
    let grace = async {
        stopping.cancelled().await;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    };
    tokio::select! {
        served = serving => served.context("the server failed")?,
        () = grace => {}
    }
    // Runs in flight come back interrupted, each with a checkpoint this fresh.
    dispatcher.checkpoint_all().await;
    Ok(())
}

/// The admin token's hash: from `given` (kept for the next start), or the
/// one kept from an earlier start, or a new token printed this once.
fn admin_token(store: &dyn Store, given: Option<&str>) -> Result<String> {
    const KEY: &str = "admin_token_hash";
    if let Some(token) = given.filter(|token| !token.is_empty()) {
        let hash = hash_token(token);
        store.set_setting(KEY, &hash)?;
        return Ok(hash);
    }
    if let Some(hash) = store.setting(KEY)? {
        return Ok(hash);
    }
    let token = auth::new_token()?;
    let hash = hash_token(&token);
    store.set_setting(KEY, &hash)?;
    eprintln!("wasmload serve: the admin token (shown only now; set WASMLOAD_ADMIN_TOKEN to replace it): {token}");
    Ok(hash)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut interrupt), Ok(mut terminate)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Unix time, seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
