//! XML-RPC values as a tree, and the flat node lists the WIT carries.

use crate::bindings::xmlrpc::Node;

/// An XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i32),
    Boolean(bool),
    String(String),
    Double(f64),
    DateTime(String),
    Base64(Vec<u8>),
    Nil,
    Array(Vec<Value>),
    Struct(Vec<(String, Value)>),
}

/// Deepest nesting accepted, so a hostile tree cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Rebuilds the sequence of trees in `nodes` (pre-order, see the WIT).
pub fn from_nodes(nodes: Vec<Node>) -> Result<Vec<Value>, String> {
    let mut nodes = nodes.into_iter();
    let mut values = Vec::new();
    while nodes.len() > 0 {
        values.push(take_value(&mut nodes, 0)?);
    }
    Ok(values)
}

fn take_value(nodes: &mut std::vec::IntoIter<Node>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("values nest deeper than {MAX_DEPTH}"));
    }
    let node = nodes.next().ok_or("the node list ends inside an array or struct")?;
    Ok(match node {
        Node::Int(value) => Value::Int(value),
        Node::Boolean(value) => Value::Boolean(value),
        Node::String(value) => Value::String(value),
        Node::Double(value) => Value::Double(value),
        Node::Datetime(value) => Value::DateTime(value),
        Node::Base64(value) => Value::Base64(value),
        Node::Nil => Value::Nil,
        Node::Array(count) => {
            if count as usize > nodes.len() {
                return Err(format!("an array of {count} has fewer nodes after it"));
            }
            let elements =
                (0..count).map(|_| take_value(nodes, depth + 1)).collect::<Result<_, _>>()?;
            Value::Array(elements)
        }
        Node::Struct(names) => {
            if names.len() > nodes.len() {
                return Err(format!(
                    "a struct of {} members has fewer nodes after it",
                    names.len()
                ));
            }
            let members = names
                .into_iter()
                .map(|name| Ok((name, take_value(nodes, depth + 1)?)))
                .collect::<Result<_, String>>()?;
            Value::Struct(members)
        }
    })
}

/// Flattens `value` into nodes, pre-order.
pub fn to_nodes(value: Value, nodes: &mut Vec<Node>) {
    match value {
        Value::Int(value) => nodes.push(Node::Int(value)),
        Value::Boolean(value) => nodes.push(Node::Boolean(value)),
        Value::String(value) => nodes.push(Node::String(value)),
        Value::Double(value) => nodes.push(Node::Double(value)),
        Value::DateTime(value) => nodes.push(Node::Datetime(value)),
        Value::Base64(value) => nodes.push(Node::Base64(value)),
        Value::Nil => nodes.push(Node::Nil),
        Value::Array(elements) => {
            nodes.push(Node::Array(elements.len() as u32));
            for element in elements {
                to_nodes(element, nodes);
            }
        }
        Value::Struct(members) => {
            let (names, values): (Vec<_>, Vec<_>) = members.into_iter().unzip();
            nodes.push(Node::Struct(names));
            for value in values {
                to_nodes(value, nodes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_survive_the_trip_through_nodes() {
        let tree = Value::Struct(vec![
            ("list".into(), Value::Array(vec![Value::Int(1), Value::Array(vec![]), Value::Nil])),
            ("name".into(), Value::String("x".into())),
        ]);
        let mut nodes = Vec::new();
        to_nodes(tree.clone(), &mut nodes);
        to_nodes(Value::Boolean(true), &mut nodes);
        assert_eq!(from_nodes(nodes).unwrap(), vec![tree, Value::Boolean(true)]);
    }

    #[test]
    fn truncated_and_too_deep_lists_are_refused() {
        assert!(from_nodes(vec![Node::Array(2), Node::Int(1)]).is_err());
        assert!(from_nodes(vec![Node::Struct(vec!["a".into()])]).is_err());
        assert!(from_nodes(vec![Node::Array(u32::MAX)]).is_err());
        let deep = vec![Node::Array(1); MAX_DEPTH + 2];
        assert!(from_nodes(deep).is_err());
    }
}
