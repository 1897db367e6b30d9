//! PostgreSQL end to end, against Debian's server in a cluster the test
//! makes: the run's counts equal the server's own (`pg_stat_statements`,
//! and the rows it holds), and every value kind and failure converts.

use std::path::Path;

use wasmload_testkit::{example, run_component, run_guest, Outcome, PostgresServer};

fn load(guest: &str, host: &str, flags: &str) -> Outcome {
    run_guest(Path::new(env!("CARGO_BIN_EXE_wasmload")), guest, host, flags)
}

fn schema() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-examples/rust/postgres-shop/schema.sql")
}

/// A server with the example's shop, two items sold out (buying them is
/// the server's check violation), its statement counts reset.
fn shop() -> PostgresServer {
    let server = PostgresServer::start();
    server.psql_file("shop", &schema());
    server.psql("shop", "UPDATE items SET stock = 0 WHERE id IN (1, 2)");
    server.reset_statement_counts("shop");
    server
}

/// The flags of a shop run: 5 users, 300 iterations.
const SHOP_RUN: &str = "-u 5 -i 300 --seed 3 -e WAIT_MS=5";

#[test]
fn shop_statements_match_the_servers_own_counts() {
    let server = shop();
    let run = load("postgres-shop", &server.url("shop"), SHOP_RUN);
    assert_shop_matches(&run, &server);
    // Every user prepared its lookup once.
    assert_eq!(run.count("postgres", "PREPARE item by id"), 5);
}

#[test]
fn python_db_api_shop_matches_the_servers_own_counts() {
    let server = shop();
    let exe = Path::new(env!("CARGO_BIN_EXE_wasmload"));
    let run =
        run_component(exe, &example("python", "postgres-shop"), &server.url("shop"), SHOP_RUN);
    assert_shop_matches(&run, &server);
}

#[test]
fn js_shop_matches_the_servers_own_counts() {
    example_shop_matches("js");
}

#[test]
fn go_shop_matches_the_servers_own_counts() {
    example_shop_matches("go");
}

#[test]
fn c_shop_matches_the_servers_own_counts() {
    example_shop_matches("c");
}

#[test]
fn zig_shop_matches_the_servers_own_counts() {
    example_shop_matches("zig");
}

/// The `postgres-shop` example in `language`, which prepares its lookup
/// once per user, matches the server as the Rust one does.
fn example_shop_matches(language: &str) {
    let server = shop();
    let exe = Path::new(env!("CARGO_BIN_EXE_wasmload"));
    let run =
        run_component(exe, &example(language, "postgres-shop"), &server.url("shop"), SHOP_RUN);
    assert_shop_matches(&run, &server);
    assert_eq!(run.count("postgres", "PREPARE item by id"), 5);
}

/// A [`SHOP_RUN`] recorded what the server ran and holds, statement by
/// statement.
fn assert_shop_matches(run: &Outcome, server: &PostgresServer) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let count = |name: &str| run.count("postgres", name);
    let failures = |name: &str| run.failures("postgres", name);
    let calls = |start: &str| server.calls("shop", start);
    assert_eq!(count("connect"), 5);
    // Every iteration was a browse or a buy, and the server ran each.
    assert_eq!(count("item by id") + count("BEGIN"), 300);
    assert_eq!(failures("item by id"), 0);
    assert_eq!(count("item by id"), calls("SELECT name, price, stock FROM items WHERE id = $1"));
    assert_eq!(count("BEGIN"), calls("BEGIN"));
    assert_eq!(count("reserve") - failures("reserve"), calls("UPDATE items SET stock"));
    assert_eq!(count("order"), calls("INSERT INTO orders"));
    assert_eq!(count("COMMIT"), calls("COMMIT"));
    assert_eq!(count("ROLLBACK"), calls("ROLLBACK"));
    // What the server holds agrees: one order per commit, stock sold.
    let orders: u64 = server.psql("shop", "SELECT count(*) FROM orders").parse().unwrap();
    assert_eq!((count("order"), count("COMMIT")), (orders, orders));
    let stock: u64 = server.psql("shop", "SELECT sum(stock) FROM items").parse().unwrap();
    assert_eq!(stock, 8 * 1000 - orders);
    // Each sold-out buy failed with the server's error and was rolled back.
    assert!(failures("reserve") > 0, "no buy hit a sold-out item");
    assert_eq!(failures("reserve"), count("ROLLBACK"));
    let errors = run.summary()["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = errors[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("23514 new row for relation \"items\" violates check constraint"),
        "{error}"
    );
    assert_eq!(errors[0]["occurrences"].as_u64(), Some(failures("reserve")));
}

#[test]
fn values_convert_both_ways_and_failures_say_why() {
    let server = PostgresServer::start();
    let flags = "-u 2 -i 4 -e DENIED_URL=postgres://wasmload@127.0.0.2:5432/shop";
    let run = load("postgres-values", &server.url("shop"), flags);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let summary = run.summary();
    assert_eq!(summary["task_errors"], serde_json::json!([]), "{}", run.stderr);
    let count = |name: &str| run.count("postgres", name);
    let failures = |name: &str| run.failures("postgres", name);
    // Each of the 4 checks: one refused query, one that converted.
    assert_eq!((count("values"), failures("values")), (8, 4));
    assert_eq!((count("missing"), failures("missing")), (4, 4));
    assert_eq!((count("narrow"), failures("narrow")), (4, 4));
    assert_eq!((count("count"), count("PREPARE count")), (4, 4));
    // Both users connected; four refused connects never left the host.
    assert_eq!((count("connect"), failures("connect")), (6, 4));
    let errors: Vec<&str> = summary["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["error"].as_str().unwrap())
        .collect();
    let has = |start: &str| errors.iter().any(|error| error.starts_with(start));
    assert!(has("42P01 relation \"no_such_table\" does not exist"), "{errors:?}");
    assert!(has("conversion: error deserializing column 7"), "{errors:?}");
    assert!(has("conversion: error serializing parameter 0"), "{errors:?}");
    assert!(has("invalid address:"), "{errors:?}");
}

#[test]
fn tls_connections_check_the_servers_certificate() {
    let server = PostgresServer::start_tls();
    server.psql_file("shop", &schema());
    let ca = std::env::temp_dir().join(format!("wasmload-postgres-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, server.certificate_pem().unwrap()).unwrap();

    let flags = format!("-u 2 -i 20 -e WAIT_MS=5 --ca-cert {}", ca.display());
    let trusted = load("postgres-shop", &server.url("shop"), &flags);
    assert_eq!(trusted.code, Some(0), "stderr: {}", trusted.stderr);
    let count = |name: &str| trusted.count("postgres", name);
    assert_eq!((count("connect"), trusted.failures("postgres", "connect")), (2, 0));
    assert_eq!(count("item by id") + count("BEGIN"), 20);
    assert_eq!(count("COMMIT"), count("BEGIN"));

    // Without the certificate, the server is no one the run trusts.
    let untrusted = load("postgres-shop", &server.url("shop"), "-i 1");
    assert_eq!(untrusted.failures("postgres", "connect"), 1);
    let error = untrusted.summary()["errors"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("connect:") && error.contains("certificate"), "{error}");
    let _ = std::fs::remove_file(ca);
}
