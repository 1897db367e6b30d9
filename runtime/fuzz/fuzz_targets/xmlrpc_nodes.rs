//! Any node list a guest passes as XML-RPC params: rebuilt or refused,
//! never a panic or a runaway recursion.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmload::fuzzing::{from_nodes, Node};

fuzz_target!(|bytes: &[u8]| {
    // Each byte pair picks a node kind and a small operand.
    let nodes = bytes
        .chunks(2)
        .map(|pair| {
            let operand = pair.get(1).copied().unwrap_or(0);
            match pair[0] % 9 {
                0 => Node::Int(i32::from(operand)),
                1 => Node::Boolean(operand % 2 == 0),
                2 => Node::String("s".repeat(usize::from(operand % 4))),
                3 => Node::Double(f64::from(operand)),
                4 => Node::Datetime(String::new()),
                5 => Node::Base64(vec![operand]),
                6 => Node::Nil,
                7 => Node::Array(u32::from(operand)),
                _ => Node::Struct((0..operand % 4).map(|i| i.to_string()).collect()),
            }
        })
        .collect();
    let _ = from_nodes(nodes);
});
