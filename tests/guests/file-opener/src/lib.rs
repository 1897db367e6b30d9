//! Tries to read a host file through WASI: the import is linked, but the
//! WASI context has no directory to read.

use wasmload_sdk::prelude::*;

struct Snoop;

impl User for Snoop {
    fn class() -> Class<Self> {
        Class::new("snoop").task(Task::new("read passwd", Self::read))
    }

    fn on_start() -> Result<Self> {
        Ok(Snoop)
    }
}

impl Snoop {
    fn read(&mut self) -> Result<()> {
        let text = std::fs::read_to_string("/etc/passwd").map_err(Error::msg)?;
        Err(Error::msg(format!("read {} bytes of /etc/passwd", text.len())))
    }
}

wasmload_sdk::users!(Snoop);
