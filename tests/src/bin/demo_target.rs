//! A local HTTP target for trying wasmload: `demo-target [ADDR]`
//! (default 127.0.0.1:8089). Prints its URL, serves until killed.

use wasmload_testkit::TargetServer;

fn main() -> anyhow::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8089".into());
    let server = TargetServer::start_on(&addr)?;
    println!("{}", server.url());
    loop {
        std::thread::park();
    }
}
