//! A client of an XML-RPC calculator (`add(a, b)`, `echo(value)`), e.g.
//! Python's `SimpleXMLRPCServer` with those two functions, at `--host`.

use wasmload_sdk::prelude::*;
use wasmload_sdk::xmlrpc::Value;

struct Calculator;

impl User for Calculator {
    fn class() -> Class<Self> {
        Class::new("calculator")
            .task(Task::new("add", Self::add).weight(3))
            .task(Task::new("echo", Self::echo))
    }

    fn on_start() -> Result<Self> {
        Ok(Calculator)
    }
}

impl Calculator {
    fn add(&mut self) -> Result<()> {
        let (a, b) = (context::random_range(0, 1000) as i32, context::random_range(0, 1000) as i32);
        let sum = xmlrpc::call("/RPC2", "add", &[a.into(), b.into()])?;
        ensure(sum == Value::Int(a + b), "wrong sum")
    }

    /// Sends one value of every type and checks it comes back unchanged.
    fn echo(&mut self) -> Result<()> {
        let value = Value::Struct(vec![
            ("user".into(), (context::user_id() as i32).into()),
            ("name".into(), "<caf\u{e9} & tea>".into()),
            ("ratio".into(), 0.25.into()),
            ("active".into(), true.into()),
            ("when".into(), Value::DateTime("20261125T12:30:00".into())),
            ("blob".into(), Value::Base64(vec![0, 1, 2, 255])),
            ("nothing".into(), Value::Nil),
            ("tags".into(), vec!["a", "b"].into()),
            ("empty".into(), Value::Array(Vec::new())),
        ]);
        let echoed = xmlrpc::call("/RPC2", "echo", std::slice::from_ref(&value))?;
        ensure(echoed == value, "echo changed the value")
    }
}

wasmload_sdk::users!(Calculator);
