//! A real PostgreSQL server (Debian's `postgresql` package) in a cluster
//! of its own, on a free loopback port, counting statements with
//! `pg_stat_statements`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `postgres`, its cluster removed when dropped.
pub struct PostgresServer {
    child: Child,
    dir: PathBuf,
    port: u16,
    /// The certificate of a server that takes only TLS connections, PEM.
    certificate: Option<String>,
}

/// The newest server installed under Debian's `/usr/lib/postgresql/VERSION/bin`.
fn server_bin() -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/test.sh, or apt-get install postgresql");
    versions
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .map(|version| PathBuf::from(format!("/usr/lib/postgresql/{version}/bin")))
        .expect("no server under /usr/lib/postgresql")
}

/// Whether this process runs as root (`id -u` spares a libc dependency).
fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout == b"0\n")
}

/// `program` with `args`; as root, run as the `postgres` user (which the
/// package makes), since the server refuses to run as root. `setpriv`
/// execs the program itself, so signals reach it.
fn as_postgres(program: &Path, args: &[&str]) -> Command {
    if running_as_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=postgres", "--regid=postgres", "--init-groups", "--"])
            .arg(program)
            .args(args);
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}

fn checked(output: std::io::Result<Output>, what: &str) -> String {
    let output = output.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl PostgresServer {
    /// Makes a cluster with a `shop` database and the `wasmload` user
    /// (trusted on loopback), starts the server with `pg_stat_statements`
    /// and waits until it answers.
    pub fn start() -> PostgresServer {
        Self::start_with(false)
    }

    /// [`PostgresServer::start`], taking only TLS connections, with a
    /// certificate for `127.0.0.1` that no one trusts but
    /// [`PostgresServer::certificate_pem`].
    pub fn start_tls() -> PostgresServer {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> PostgresServer {
        let bin = server_bin();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("wasmload-postgres-{}-{port}", std::process::id()));
        let data = dir.join("data");
        std::fs::create_dir_all(&dir).expect("a directory for the cluster");
        // The server's user must own its directory.
        checked(Command::new("chmod").args(["777"]).arg(&dir).output(), "chmod");
        let data_text = data.to_str().expect("a UTF-8 temporary path");
        checked(
            as_postgres(
                &bin.join("initdb"),
                &["-D", data_text, "-U", "wasmload", "--auth=trust", "-E", "UTF8"],
            )
            .output(),
            "initdb",
        );
        let certificate = tls.then(|| require_tls(&data));
        let port_text = port.to_string();
        let ssl = if tls { "ssl=on" } else { "ssl=off" };
        let child = as_postgres(
            &bin.join("postgres"),
            &[
                "-c",
                ssl,
                "-D",
                data_text,
                "-p",
                &port_text,
                "-h",
                "127.0.0.1",
                "-k",
                data_text,
                "-c",
                "shared_preload_libraries=pg_stat_statements",
                "-c",
                "max_connections=200",
                "-c",
                "fsync=off",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting postgres");
        let server = PostgresServer { child, dir, port, certificate };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.try_psql("postgres", "SELECT 1").is_err() {
            assert!(Instant::now() < deadline, "postgres did not answer within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        server.psql("postgres", "CREATE DATABASE shop");
        server.psql("shop", "CREATE EXTENSION pg_stat_statements");
        server
    }

    /// `postgres://wasmload@127.0.0.1:PORT/DATABASE`, asking for TLS when
    /// the server takes nothing else.
    pub fn url(&self, database: &str) -> String {
        let tls = if self.certificate.is_some() { "?sslmode=require" } else { "" };
        format!("postgres://wasmload@127.0.0.1:{}/{database}{tls}", self.port)
    }

    /// The certificate of a TLS-only server, PEM-encoded.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate.as_deref()
    }

    fn try_psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let output = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.url(database),
                "-c",
                sql,
            ])
            .output()
            .map_err(|e| format!("psql: {e} (apt-get install postgresql-client)"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Runs `sql` (one or more statements) with `psql`; its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        self.try_psql(database, sql).unwrap_or_else(|error| panic!("psql `{sql}`: {error}"))
    }

    /// Runs the SQL file `path` in `database`.
    pub fn psql_file(&self, database: &str, path: &Path) {
        let mut command = Command::new("psql");
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url(database), "-f"])
            .arg(path);
        checked(command.output(), "psql -f");
    }

    /// Forgets the statement counts so far.
    pub fn reset_statement_counts(&self, database: &str) {
        self.psql(database, "SELECT pg_stat_statements_reset()");
    }

    /// How many times statements whose text starts with `start` completed,
    /// per `pg_stat_statements`.
    pub fn calls(&self, database: &str, start: &str) -> u64 {
        let sql = format!(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '{}%'",
            start.replace('\'', "''")
        );
        let calls = self.psql(database, &sql);
        calls.parse().unwrap_or_else(|_| panic!("pg_stat_statements said `{calls}`"))
    }
}

/// Gives the cluster in `data` a certificate for `127.0.0.1` and lets only
/// TLS connections in; returns the certificate, PEM.
fn require_tls(data: &Path) -> String {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])
        .expect("generating a certificate");
    let pem = certified.cert.pem();
    std::fs::write(data.join("server.crt"), &pem).expect("writing the certificate");
    std::fs::write(data.join("server.key"), certified.signing_key.serialize_pem())
        .expect("writing the key");
    std::fs::write(data.join("pg_hba.conf"), "hostssl all all 127.0.0.1/32 trust\n")
        .expect("writing pg_hba.conf");
    // The server reads its key only when no one else may.
    checked(Command::new("chmod").arg("600").arg(data.join("server.key")).output(), "chmod");
    if running_as_root() {
        let files = ["server.crt", "server.key", "pg_hba.conf"].map(|file| data.join(file));
        checked(Command::new("chown").arg("postgres:postgres").args(files).output(), "chown");
    }
    pem
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // SIGQUIT: immediate shutdown, backends included.
        let stopped = Command::new("kill").args(["-QUIT", &self.child.id().to_string()]).status();
        if !stopped.is_ok_and(|status| status.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
