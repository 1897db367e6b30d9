//! Round-trips every value kind through a real PostgreSQL, and fails in
//! each way the interface names: a server error, a value that does not
//! convert, a refused address. Each check that does not hold fails the
//! task, so the run's task errors say which.

use wasmload_sdk::postgres::{PostgresError, Value};
use wasmload_sdk::prelude::*;

struct Checker {
    db: postgres::Connection,
}

impl User for Checker {
    fn class() -> Class<Self> {
        Class::new("checker").task(Task::new("check", Self::check))
    }

    fn on_start() -> Result<Self> {
        Ok(Checker { db: postgres::connect("")? })
    }
}

/// A row of every kind, its `tomorrow` column computed by `tomorrow`.
fn values_sql(tomorrow: &str) -> String {
    format!(
        "SELECT $1::int4 + 1 AS next, $2::text AS word, $3::numeric * 2 AS doubled, \
         $4::bytea AS raw, NOT $5::bool AS flipped, $6::float8 / 2 AS half, NULL::int AS nothing, \
         {tomorrow} AS tomorrow, '{{\"a\": 1}}'::jsonb AS doc, \
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id, 42::int8 AS big"
    )
}

/// The parameters of [`values_sql`].
fn params() -> Vec<Value> {
    vec![
        41.into(),
        "it's".into(),
        "1.25".into(),
        vec![0u8, 255].into(),
        false.into(),
        5.0.into(),
        "2024-02-28".into(),
    ]
}

impl Checker {
    fn check(&mut self) -> Result<()> {
        // A date column has no variant: the whole query is refused, naming the type.
        match self.db.query_named("values", &values_sql("$7::date + 1"), &params()) {
            Err(PostgresError::Conversion(reason)) if reason.contains("date") => {}
            other => return Err(Error::msg(format!("a date column converted: {other:?}"))),
        }
        let rows = self.db.query_named("values", &values_sql("($7::date + 1)::text"), &params())?;
        let expected_columns =
            ["next", "word", "doubled", "raw", "flipped", "half", "nothing", "tomorrow", "doc", "id", "big"];
        ensure(rows.columns == expected_columns, format!("columns {:?}", rows.columns))?;
        let expected = vec![
            Value::Int(42),
            Value::Text("it's".into()),
            Value::Text("2.50".into()),
            Value::Bytes(vec![0, 255]),
            Value::Boolean(true),
            Value::Float(2.5),
            Value::Null,
            Value::Text("2024-02-29".into()),
            Value::Text("{\"a\": 1}".into()),
            Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()),
            Value::Int(42),
        ];
        ensure(format!("{:?}", rows.rows) == format!("{:?}", vec![expected]), format!("rows {:?}", rows.rows))?;

        // The server's own error, with its SQLSTATE.
        match self.db.execute_named("missing", "DELETE FROM no_such_table", &[]) {
            Err(error) if error.sqlstate() == Some("42P01") => {}
            other => return Err(Error::msg(format!("no 42P01: {other:?}"))),
        }
        // An integer too big for the int2 the server expects.
        match self.db.query_named("narrow", "SELECT $1::int2", &[70_000.into()]) {
            Err(PostgresError::Conversion(_)) => {}
            other => return Err(Error::msg(format!("70000 fit an int2: {other:?}"))),
        }
        // A host the sandbox does not allow.
        let denied = context::param_or("DENIED_URL", "");
        match postgres::connect(&denied) {
            Err(PostgresError::InvalidAddress(_)) => {}
            other => return Err(Error::msg(format!("{denied} was reachable: {:?}", other.is_ok()))),
        }
        // Prepared statements and transactions.
        let mut count = self.db.prepare("count", "SELECT count(*) FROM generate_series(1, $1)")?;
        ensure(count.query(&[3.into()])?.rows[0][0].as_i64() == Some(3), "count of 3")?;
        self.db.begin()?;
        self.db.rollback()?;
        Ok(())
    }
}

wasmload_sdk::users!(Checker);
