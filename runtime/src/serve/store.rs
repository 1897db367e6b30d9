//! What the service keeps: tenants, their components and their runs. The
//! handlers and the dispatcher see only the [`Store`] trait; SQLite in the
//! data directory (WAL, so readers never wait on the writer) is the
//! embedded default. Component bytes live beside it, one file per sha256.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::sync::lock;

/// A tenant: who may act, and within which quotas (JSON, see `quotas`).
#[derive(Debug, Clone)]
pub struct TenantRecord {
    pub id: String,
    pub name: String,
    pub quotas: String,
    pub created_at: i64,
}

/// A component a tenant uploaded: its digest and what it describes (JSON).
#[derive(Debug, Clone)]
pub struct ComponentRecord {
    pub digest: String,
    pub size: u64,
    pub description: String,
    pub uploaded_at: i64,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Waiting for capacity.
    Queued,
    Running,
    /// Ended by itself (time, iterations, or its users ending).
    Finished,
    /// Ended because its tenant stopped it.
    Stopped,
    /// Could not start, or broke: `reason` says why.
    Failed,
    /// The server went down while it ran: its last checkpoint is kept.
    Interrupted,
}

impl RunState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Finished => "finished",
            RunState::Stopped => "stopped",
            RunState::Failed => "failed",
            RunState::Interrupted => "interrupted",
        }
    }

    fn parse(text: &str) -> RunState {
        match text {
            "queued" => RunState::Queued,
            "running" => RunState::Running,
            "finished" => RunState::Finished,
            "stopped" => RunState::Stopped,
            "interrupted" => RunState::Interrupted,
            _ => RunState::Failed,
        }
    }

    /// Whether the run has ended, one way or another.
    pub fn ended(self) -> bool {
        !matches!(self, RunState::Queued | RunState::Running)
    }
}

/// A run as stored. `spec`, `summary` and `verdicts` are JSON.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub tenant_id: String,
    pub component: String,
    pub spec: String,
    pub state: RunState,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Users the run reserves of the server's capacity.
    pub reserved_users: u32,
}

/// A run's results: its summary (final, or the newest checkpoint), its
/// thresholds' verdicts and its log.
#[derive(Debug, Clone, Default)]
pub struct RunResults {
    pub summary: Option<String>,
    pub verdicts: Option<String>,
    pub log: Option<String>,
}

/// How a run ended, written at once with its results.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub state: RunState,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
    pub ended_at: i64,
    pub results: RunResults,
}

/// The service's storage. Calls block (on the disk): callers run them off
/// the async threads.
pub trait Store: Send + Sync {
    /// A setting, e.g. the admin token's hash.
    fn setting(&self, key: &str) -> Result<Option<String>>;
    fn set_setting(&self, key: &str, value: &str) -> Result<()>;

    /// Adds a tenant with the hash of its token; `false` if the name is taken.
    fn add_tenant(&self, tenant: &TenantRecord, token_hash: &str) -> Result<bool>;
    fn tenant(&self, id: &str) -> Result<Option<TenantRecord>>;
    fn tenant_by_token(&self, token_hash: &str) -> Result<Option<TenantRecord>>;
    fn tenants(&self) -> Result<Vec<TenantRecord>>;
    fn set_quotas(&self, id: &str, quotas: &str) -> Result<bool>;

    /// Keeps a tenant's component; uploading the same bytes again is a no-op.
    fn add_component(&self, tenant_id: &str, component: &ComponentRecord) -> Result<()>;
    fn component(&self, tenant_id: &str, digest: &str) -> Result<Option<ComponentRecord>>;
    fn components(&self, tenant_id: &str) -> Result<Vec<ComponentRecord>>;

    fn add_run(&self, run: &RunRecord) -> Result<()>;
    /// A run by id, if it is the tenant's (any tenant's with `None`).
    fn run(&self, tenant_id: Option<&str>, id: &str) -> Result<Option<RunRecord>>;
    /// A tenant's runs, newest first.
    fn runs(&self, tenant_id: &str) -> Result<Vec<RunRecord>>;
    /// Every queued run, oldest first.
    fn queued_runs(&self) -> Result<Vec<RunRecord>>;
    /// How many of a tenant's runs are stored, and how many of them are
    /// queued or running.
    fn run_counts(&self, tenant_id: &str) -> Result<(u64, u64)>;
    fn run_results(&self, id: &str) -> Result<RunResults>;
    fn set_running(&self, id: &str, started_at: i64) -> Result<()>;
    /// Keeps a running run's summary so far.
    fn checkpoint(&self, id: &str, summary: &str) -> Result<()>;
    /// Ends a run, its results with it, in one transaction.
    fn end_run(&self, id: &str, end: &RunEnd) -> Result<()>;
    /// Removes an ended run of the tenant's; `false` if there is none.
    fn delete_run(&self, tenant_id: &str, id: &str) -> Result<bool>;
    /// Marks runs that were running when the server went down as
    /// interrupted, keeping their checkpoints; returns how many.
    fn interrupt_running(&self, ended_at: i64) -> Result<usize>;
}

/// The embedded store: SQLite in `DIR/wasmload.db`.
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Arc<SqliteStore>> {
        let path = dir.join("wasmload.db");
        let connection = Connection::open(&path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        connection
            .execute_batch(SCHEMA)
            .with_context(|| format!("cannot set up the database {}", path.display()))?;
        Ok(Arc::new(SqliteStore { connection: Mutex::new(connection) }))
    }

    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        work(&mut lock(&self.connection)).context("database error")
    }
}

/// The tables. WAL: a reader never waits on the writer; `synchronous =
/// FULL`: a run reported finished survives a power cut.
const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT UNIQUE,
    quotas TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS components (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    description TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, digest)
);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    component TEXT NOT NULL,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    exit_code INTEGER,
    reason TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    reserved_users INTEGER NOT NULL,
    summary TEXT,
    verdicts TEXT,
    log TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_tenant ON runs (tenant_id, seq);
CREATE INDEX IF NOT EXISTS runs_by_state ON runs (state, seq);
";

const RUN_COLUMNS: &str = "id, tenant_id, component, spec, state, exit_code, reason, created_at, \
                           started_at, ended_at, reserved_users";

fn run_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        component: row.get(2)?,
        spec: row.get(3)?,
        state: RunState::parse(&row.get::<_, String>(4)?),
        exit_code: row.get(5)?,
        reason: row.get(6)?,
        created_at: row.get(7)?,
        started_at: row.get(8)?,
        ended_at: row.get(9)?,
        reserved_users: row.get(10)?,
    })
}

fn tenant_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TenantRecord> {
    Ok(TenantRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        quotas: row.get(2)?,
        created_at: row.get(3)?,
    })
}

fn component_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ComponentRecord> {
    Ok(ComponentRecord {
        digest: row.get(0)?,
        size: row.get(1)?,
        description: row.get(2)?,
        uploaded_at: row.get(3)?,
    })
}

impl Store for SqliteStore {
    fn setting(&self, key: &str) -> Result<Option<String>> {
        self.with(|db| {
            db.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| row.get(0))
                .optional()
        })
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(drop)
        })
    }

    fn add_tenant(&self, tenant: &TenantRecord, token_hash: &str) -> Result<bool> {
        self.with(|db| {
            let added = db.execute(
                "INSERT OR IGNORE INTO tenants (id, name, token_hash, quotas, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![tenant.id, tenant.name, token_hash, tenant.quotas, tenant.created_at],
            )?;
            Ok(added == 1)
        })
    }

    fn tenant(&self, id: &str) -> Result<Option<TenantRecord>> {
        self.with(|db| {
            db.query_row(
                "SELECT id, name, quotas, created_at FROM tenants WHERE id = ?1",
                [id],
                tenant_row,
            )
            .optional()
        })
    }

    fn tenant_by_token(&self, token_hash: &str) -> Result<Option<TenantRecord>> {
        self.with(|db| {
            db.query_row(
                "SELECT id, name, quotas, created_at FROM tenants WHERE token_hash = ?1",
                [token_hash],
                tenant_row,
            )
            .optional()
        })
    }

    fn tenants(&self) -> Result<Vec<TenantRecord>> {
        self.with(|db| {
            let mut query = db.prepare(
                "SELECT id, name, quotas, created_at FROM tenants ORDER BY created_at, id",
            )?;
            let rows = query.query_map([], tenant_row)?;
            rows.collect()
        })
    }

    fn set_quotas(&self, id: &str, quotas: &str) -> Result<bool> {
        self.with(|db| {
            Ok(db.execute("UPDATE tenants SET quotas = ?2 WHERE id = ?1", [id, quotas])? == 1)
        })
    }

    fn add_component(&self, tenant_id: &str, component: &ComponentRecord) -> Result<()> {
        self.with(|db| {
            db.execute(
                "INSERT OR IGNORE INTO components (tenant_id, digest, size, description, uploaded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    tenant_id,
                    component.digest,
                    component.size,
                    component.description,
                    component.uploaded_at
                ],
            )
            .map(drop)
        })
    }

    fn component(&self, tenant_id: &str, digest: &str) -> Result<Option<ComponentRecord>> {
        self.with(|db| {
            db.query_row(
                "SELECT digest, size, description, uploaded_at FROM components
                 WHERE tenant_id = ?1 AND digest = ?2",
                [tenant_id, digest],
                component_row,
            )
            .optional()
        })
    }

    fn components(&self, tenant_id: &str) -> Result<Vec<ComponentRecord>> {
        self.with(|db| {
            let mut query = db.prepare(
                "SELECT digest, size, description, uploaded_at FROM components
                 WHERE tenant_id = ?1 ORDER BY uploaded_at DESC, digest",
            )?;
            let rows = query.query_map([tenant_id], component_row)?;
            rows.collect()
        })
    }

    fn add_run(&self, run: &RunRecord) -> Result<()> {
        self.with(|db| {
            db.execute(
                "INSERT INTO runs (id, tenant_id, component, spec, state, created_at, reserved_users)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.id,
                    run.tenant_id,
                    run.component,
                    run.spec,
                    run.state.as_str(),
                    run.created_at,
                    run.reserved_users
                ],
            )
            .map(drop)
        })
    }

    fn run(&self, tenant_id: Option<&str>, id: &str) -> Result<Option<RunRecord>> {
        self.with(|db| {
            let sql = format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1 AND (?2 IS NULL OR tenant_id = ?2)"
            );
            db.query_row(&sql, params![id, tenant_id], run_row).optional()
        })
    }

    fn runs(&self, tenant_id: &str) -> Result<Vec<RunRecord>> {
        self.with(|db| {
            let sql =
                format!("SELECT {RUN_COLUMNS} FROM runs WHERE tenant_id = ?1 ORDER BY seq DESC");
            let mut query = db.prepare(&sql)?;
            let rows = query.query_map([tenant_id], run_row)?;
            rows.collect()
        })
    }

    fn queued_runs(&self) -> Result<Vec<RunRecord>> {
        self.with(|db| {
            let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE state = 'queued' ORDER BY seq");
            let mut query = db.prepare(&sql)?;
            let rows = query.query_map([], run_row)?;
            rows.collect()
        })
    }

    fn run_counts(&self, tenant_id: &str) -> Result<(u64, u64)> {
        self.with(|db| {
            db.query_row(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE state IN ('queued', 'running'))
                 FROM runs WHERE tenant_id = ?1",
                [tenant_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })
    }

    fn run_results(&self, id: &str) -> Result<RunResults> {
        self.with(|db| {
            db.query_row("SELECT summary, verdicts, log FROM runs WHERE id = ?1", [id], |row| {
                Ok(RunResults { summary: row.get(0)?, verdicts: row.get(1)?, log: row.get(2)? })
            })
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    fn set_running(&self, id: &str, started_at: i64) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE runs SET state = 'running', started_at = ?2 WHERE id = ?1",
                params![id, started_at],
            )
            .map(drop)
        })
    }

    fn checkpoint(&self, id: &str, summary: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE runs SET summary = ?2 WHERE id = ?1 AND state = 'running'",
                params![id, summary],
            )
            .map(drop)
        })
    }

    fn end_run(&self, id: &str, end: &RunEnd) -> Result<()> {
        self.with(|db| {
            let transaction = db.transaction()?;
            transaction.execute(
                "UPDATE runs SET state = ?2, exit_code = ?3, reason = ?4, ended_at = ?5,
                     summary = COALESCE(?6, summary), verdicts = ?7, log = ?8
                 WHERE id = ?1",
                params![
                    id,
                    end.state.as_str(),
                    end.exit_code,
                    end.reason,
                    end.ended_at,
                    end.results.summary,
                    end.results.verdicts,
                    end.results.log
                ],
            )?;
            transaction.commit()
        })
    }

    fn delete_run(&self, tenant_id: &str, id: &str) -> Result<bool> {
        self.with(|db| {
            let deleted = db.execute(
                "DELETE FROM runs WHERE id = ?1 AND tenant_id = ?2
                     AND state NOT IN ('queued', 'running')",
                [id, tenant_id],
            )?;
            Ok(deleted == 1)
        })
    }

    fn interrupt_running(&self, ended_at: i64) -> Result<usize> {
        self.with(|db| {
            db.execute(
                "UPDATE runs SET state = 'interrupted', ended_at = ?1,
                     reason = 'the server stopped while the run was going; its last checkpoint is kept'
                 WHERE state = 'running'",
                [ended_at],
            )
        })
    }
}

/// Where component bytes are kept: one file per sha256, written whole then
/// renamed into place.
pub struct ComponentFiles {
    dir: PathBuf,
}

impl ComponentFiles {
    /// The component files under `dir`.
    pub fn open(dir: PathBuf) -> Result<ComponentFiles> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(ComponentFiles { dir })
    }

    /// Keeps `bytes` under their digest.
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(digest);
        if path.exists() {
            return Ok(());
        }
        let partial = path.with_extension(format!("partial-{}", std::process::id()));
        std::fs::write(&partial, bytes)
            .and_then(|()| std::fs::rename(&partial, &path))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// The bytes kept under `digest`.
    pub fn get(&self, digest: &str) -> Result<Vec<u8>> {
        let path = self.path(digest);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    }

    fn path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.wasm"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (Arc<SqliteStore>, PathBuf) {
        let dir = std::env::temp_dir().join(format!("wasmload-store-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        (SqliteStore::open(&dir).unwrap(), dir)
    }

    fn tenant(id: &str) -> TenantRecord {
        TenantRecord {
            id: id.into(),
            name: format!("name-{id}"),
            quotas: "{}".into(),
            created_at: 1,
        }
    }

    fn run(id: &str, tenant_id: &str) -> RunRecord {
        RunRecord {
            id: id.into(),
            tenant_id: tenant_id.into(),
            component: "d".into(),
            spec: "{}".into(),
            state: RunState::Queued,
            exit_code: None,
            reason: None,
            created_at: 1,
            started_at: None,
            ended_at: None,
            reserved_users: 5,
        }
    }

    #[test]
    fn runs_are_seen_only_by_their_tenant() {
        let (store, dir) = store();
        assert!(store.add_tenant(&tenant("a"), "ha").unwrap());
        assert!(store.add_tenant(&tenant("b"), "hb").unwrap());
        assert!(!store.add_tenant(&tenant("a"), "hc").unwrap(), "names are unique");
        store.add_run(&run("r1", "a")).unwrap();
        assert!(store.run(Some("a"), "r1").unwrap().is_some());
        assert!(store.run(Some("b"), "r1").unwrap().is_none());
        assert_eq!(store.runs("b").unwrap().len(), 0);
        assert_eq!(store.tenant_by_token("hb").unwrap().unwrap().id, "b");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_run_in_flight_comes_back_interrupted_with_its_checkpoint() {
        let (store, dir) = store();
        store.add_tenant(&tenant("a"), "ha").unwrap();
        store.add_run(&run("r1", "a")).unwrap();
        store.add_run(&run("r2", "a")).unwrap();
        store.set_running("r1", 2).unwrap();
        store.checkpoint("r1", "{\"users\": 3}").unwrap();
        drop(store);
        let store = SqliteStore::open(&dir).unwrap();
        assert_eq!(store.interrupt_running(9).unwrap(), 1);
        let interrupted = store.run(None, "r1").unwrap().unwrap();
        assert_eq!((interrupted.state, interrupted.ended_at), (RunState::Interrupted, Some(9)));
        assert_eq!(store.run_results("r1").unwrap().summary.as_deref(), Some("{\"users\": 3}"));
        let queued: Vec<String> = store.queued_runs().unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(queued, ["r2"], "queued runs stay queued");
        assert_eq!(store.run_counts("a").unwrap(), (2, 1));
        assert!(!store.delete_run("a", "r2").unwrap(), "a queued run cannot be deleted");
        assert!(store.delete_run("a", "r1").unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
