//! A component with no `behaviour` export: wasmload must refuse it.

/// Something to compile; nothing the host can call.
#[no_mangle]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a + b
}
