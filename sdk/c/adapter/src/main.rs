//! Writes WASI's preview1 "proxy" adapter to the path given. Unlike the
//! reactor adapter it imports neither filesystem nor sockets, so a C user
//! imports only what it uses; its stdout and stderr still work.

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: wasi-adapter OUT.wasm");
        std::process::exit(2);
    };
    std::fs::write(path, wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER)
}
