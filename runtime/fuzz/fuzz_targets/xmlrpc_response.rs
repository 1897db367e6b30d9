//! Any bytes a server answers an XML-RPC call with: an error or a value,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmload::fuzzing::decode_response;

fuzz_target!(|body: &[u8]| {
    let _ = decode_response(body);
});
