//! XML-RPC on the wire: `<methodCall>` out, `<methodResponse>` in.

use std::fmt::Write as _;

use base64::Engine as _;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::value::{Value, MAX_DEPTH};

/// What a `<methodResponse>` held.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Value(Value),
    Fault { code: i32, message: String },
}

/// The `<methodCall>` document for `method` with `params`.
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{}</methodName><params>",
        escape(method)
    );
    for param in params {
        xml.push_str("<param>");
        encode_value(param, &mut xml);
        xml.push_str("</param>");
    }
    xml.push_str("</params></methodCall>");
    xml
}

fn encode_value(value: &Value, xml: &mut String) {
    xml.push_str("<value>");
    match value {
        Value::Int(value) => {
            let _ = write!(xml, "<int>{value}</int>");
        }
        Value::Boolean(value) => {
            let _ = write!(xml, "<boolean>{}</boolean>", u8::from(*value));
        }
        Value::String(value) => {
            let _ = write!(xml, "<string>{}</string>", escape(value.as_str()));
        }
        Value::Double(value) => {
            let _ = write!(xml, "<double>{value:?}</double>");
        }
        Value::DateTime(value) => {
            let _ = write!(xml, "<dateTime.iso8601>{}</dateTime.iso8601>", escape(value.as_str()));
        }
        Value::Base64(bytes) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            let _ = write!(xml, "<base64>{encoded}</base64>");
        }
        Value::Nil => xml.push_str("<nil/>"),
        Value::Array(elements) => {
            xml.push_str("<array><data>");
            for element in elements {
                encode_value(element, xml);
            }
            xml.push_str("</data></array>");
        }
        Value::Struct(members) => {
            xml.push_str("<struct>");
            for (name, value) in members {
                let _ = write!(xml, "<member><name>{}</name>", escape(name.as_str()));
                encode_value(value, xml);
                xml.push_str("</member>");
            }
            xml.push_str("</struct>");
        }
    }
    xml.push_str("</value>");
}

/// An element: its name, child elements, and its own text.
#[derive(Debug)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn only_child(&self, name: &str) -> Result<&Element, String> {
        match self.children.as_slice() {
            [child] if child.name == name => Ok(child),
            _ => Err(format!("<{}> must hold exactly one <{name}>", self.name)),
        }
    }
}

/// Parses a `<methodResponse>`. Never panics on any input.
pub fn decode_response(body: &[u8]) -> Result<Answer, String> {
    let root = parse_document(body)?;
    if root.name != "methodResponse" {
        return Err(format!("expected <methodResponse>, found <{}>", root.name));
    }
    let Some(first) = root.children.first() else {
        return Err("<methodResponse> is empty".into());
    };
    match first.name.as_str() {
        "params" => {
            let param = first.only_child("param")?;
            Ok(Answer::Value(decode_value(param.only_child("value")?)?))
        }
        "fault" => decode_fault(decode_value(first.only_child("value")?)?),
        other => Err(format!("unexpected <{other}> in <methodResponse>")),
    }
}

fn decode_fault(value: Value) -> Result<Answer, String> {
    let Value::Struct(members) = value else {
        return Err("<fault> does not hold a struct".into());
    };
    let member = |name: &str| members.iter().find(|(key, _)| key == name).map(|(_, value)| value);
    match (member("faultCode"), member("faultString")) {
        (Some(Value::Int(code)), Some(Value::String(message))) => {
            Ok(Answer::Fault { code: *code, message: message.clone() })
        }
        _ => Err("<fault> lacks an int faultCode and a string faultString".into()),
    }
}

fn decode_value(value: &Element) -> Result<Value, String> {
    let Some(typed) = value.children.first() else {
        // A value with no type element is a string.
        return Ok(Value::String(value.text.clone()));
    };
    if value.children.len() > 1 {
        return Err("<value> holds more than one element".into());
    }
    let text = typed.text.trim();
    let invalid = |kind: &str| format!("invalid <{kind}>: {text:?}");
    Ok(match typed.name.as_str() {
        "int" | "i4" => Value::Int(text.parse().map_err(|_| invalid(&typed.name))?),
        "boolean" => match text {
            "0" => Value::Boolean(false),
            "1" => Value::Boolean(true),
            _ => return Err(invalid("boolean")),
        },
        "string" => Value::String(typed.text.clone()),
        "double" => Value::Double(text.parse().map_err(|_| invalid("double"))?),
        "dateTime.iso8601" => Value::DateTime(text.to_owned()),
        "base64" => {
            let compact: String = text.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| invalid("base64"))?;
            Value::Base64(bytes)
        }
        "nil" => Value::Nil,
        "array" => {
            let data = typed.only_child("data")?;
            let elements = data.children.iter().map(decode_value).collect::<Result<_, _>>()?;
            Value::Array(elements)
        }
        "struct" => {
            let members = typed
                .children
                .iter()
                .map(|member| {
                    let name = member.children.iter().find(|child| child.name == "name");
                    let value = member.children.iter().find(|child| child.name == "value");
                    match (member.name.as_str(), name, value) {
                        ("member", Some(name), Some(value)) => {
                            Ok((name.text.clone(), decode_value(value)?))
                        }
                        _ => Err("a struct member needs <name> and <value>".to_owned()),
                    }
                })
                .collect::<Result<_, _>>()?;
            Value::Struct(members)
        }
        other => return Err(format!("unknown value type <{other}>")),
    })
}

/// Reads the document into elements; text is kept per element.
fn parse_document(body: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("bad XML: {e}"))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                return Err(format!("<{name}> after the document element"));
            }
            Event::Start(start) => {
                if stack.len() > 2 * MAX_DEPTH + 8 {
                    return Err("elements nest too deep".into());
                }
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                stack.push(Element { name, children: Vec::new(), text: String::new() });
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                let element = Element { name, children: Vec::new(), text: String::new() };
                attach(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("a closing tag with no opening one")?;
                attach(&mut stack, &mut root, element);
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|e| format!("bad text: {e}"))?;
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "no document element".into())
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(xml: &str) -> Result<Answer, String> {
        decode_response(xml.as_bytes())
    }

    #[test]
    fn every_value_type_decodes() {
        let xml = r#"<?xml version="1.0"?><methodResponse><params><param><value><struct>
            <member><name>i</name><value><i4>-7</i4></value></member>
            <member><name>b</name><value><boolean>1</boolean></value></member>
            <member><name>s</name><value><string>a &lt;b&gt; &amp; c</string></value></member>
            <member><name>bare</name><value>plain</value></member>
            <member><name>d</name><value><double>2.5</double></value></member>
            <member><name>t</name><value><dateTime.iso8601>20261125T12:00:00</dateTime.iso8601></value></member>
            <member><name>raw</name><value><base64>aGk=</base64></value></member>
            <member><name>n</name><value><nil/></value></member>
            <member><name>a</name><value><array><data><value><int>1</int></value></data></array></value></member>
            </struct></value></param></params></methodResponse>"#;
        let expected = Value::Struct(vec![
            ("i".into(), Value::Int(-7)),
            ("b".into(), Value::Boolean(true)),
            ("s".into(), Value::String("a <b> & c".into())),
            ("bare".into(), Value::String("plain".into())),
            ("d".into(), Value::Double(2.5)),
            ("t".into(), Value::DateTime("20261125T12:00:00".into())),
            ("raw".into(), Value::Base64(b"hi".to_vec())),
            ("n".into(), Value::Nil),
            ("a".into(), Value::Array(vec![Value::Int(1)])),
        ]);
        assert_eq!(answer(xml), Ok(Answer::Value(expected)));
    }

    #[test]
    fn faults_decode_to_code_and_message() {
        let xml = "<methodResponse><fault><value><struct>\
            <member><name>faultCode</name><value><int>4</int></value></member>\
            <member><name>faultString</name><value><string>Too many</string></value></member>\
            </struct></value></fault></methodResponse>";
        assert_eq!(answer(xml), Ok(Answer::Fault { code: 4, message: "Too many".into() }));
    }

    #[test]
    fn encoded_calls_escape_text() {
        let xml =
            encode_call("say", &[Value::String("<&>".into()), Value::Array(vec![Value::Nil])]);
        assert!(xml.contains("<methodName>say</methodName>"), "{xml}");
        assert!(xml.contains("<string>&lt;&amp;&gt;</string>"), "{xml}");
        assert!(xml.contains("<array><data><value><nil/></value></data></array>"), "{xml}");
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        for xml in [
            "",
            "not xml at all",
            "<methodResponse>",
            "<methodResponse></methodResponse>",
            "<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><int>99999999999</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><weird/></value></param></params></methodResponse>",
            "<methodResponse><params></params></methodResponse>",
            "<methodResponse><fault><value><int>1</int></value></fault></methodResponse>",
            "<other/>",
            "<a></b>",
            "<methodResponse/><again/>",
            "<methodResponse><params><param><value><string>&bogus;</string></value></param></params></methodResponse>",
        ] {
            assert!(answer(xml).is_err(), "accepted {xml:?}");
        }
    }
}
