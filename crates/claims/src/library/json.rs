//! JSON documents in a file: one document, several concatenated, or JSON
//! lines. A line-delimited file loses only its bad lines; a single document
//! with a syntax error is one bad record.

use super::Rejected;
use serde_json::Value;

/// A JSON document and the 1-based line it starts on.
pub(crate) struct Doc {
    pub value: Value,
    pub line: u64,
}

/// The documents of a JSON file; an error (with line and column) when the
/// file is not JSON at all (nothing in it parses).
pub(crate) fn file_documents(text: &str) -> Result<Vec<Result<Doc, Rejected>>, String> {
    let docs = documents(text);
    match docs.as_slice() {
        [Err(r)] => Err(format!(
            "not JSON ({})",
            r.reason.trim_start_matches("bad JSON: ")
        )),
        _ => Ok(docs),
    }
}

pub(crate) fn documents(text: &str) -> Vec<Result<Doc, Rejected>> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return vec![Ok(Doc {
            value: v,
            line: first_line(text),
        })];
    }
    // Concatenated documents.
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut ok = true;
    loop {
        let at = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(v)) => docs.push(Doc {
                value: v,
                line: line_at(text, at) + first_line(&text[at..]) - 1,
            }),
            Some(Err(_)) => {
                ok = false;
                break;
            }
        }
    }
    if ok {
        return docs.into_iter().map(Ok).collect();
    }
    // JSON lines, when the first non-blank line is a document of its own.
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if serde_json::from_str::<Value>(first).is_ok() {
        return text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str::<Value>(l)
                    .map(|v| Doc {
                        value: v,
                        line: i as u64 + 1,
                    })
                    .map_err(|e| Rejected {
                        line: Some(i as u64 + 1),
                        record: None,
                        reason: format!("bad JSON: {e}"),
                        raw: l.to_string(),
                    })
            })
            .collect();
    }
    let e = serde_json::from_str::<Value>(text).expect_err("failed above");
    vec![Err(Rejected {
        line: Some(e.line() as u64),
        record: None,
        reason: format!("bad JSON: {e}"),
        raw: text.to_string(),
    })]
}

fn first_line(text: &str) -> u64 {
    let lead = text.len() - text.trim_start().len();
    line_at(text, lead)
}

/// 1-based line of a byte offset.
pub(crate) fn line_at(text: &str, offset: usize) -> u64 {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&c| c == b'\n')
        .count() as u64
}

/// A JSON value as text for the quarantine.
pub(crate) fn raw(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The text of a schema.org value: a string, a number, or an object's
/// `name` / `@value` / `@id`; the first usable element of an array.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => super::normalize::nonempty(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => a.iter().find_map(text),
        Value::Object(o) => ["name", "@value", "alternateName", "@id", "url"]
            .iter()
            .find_map(|k| o.get(*k).and_then(text)),
        _ => None,
    }
}

/// A number given as a number or a numeric string.
pub(crate) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Array(a) => a.iter().find_map(number),
        _ => None,
    }
}

/// A URL: a string, or an object's `url` / `@id`.
pub(crate) fn url(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => super::normalize::nonempty(s),
        Value::Object(o) => ["url", "@id"].iter().find_map(|k| o.get(*k).and_then(url)),
        Value::Array(a) => a.iter().find_map(url),
        _ => None,
    }
}

/// Every URL in a value that may be one URL, an object or a list of them.
pub(crate) fn urls(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(url).collect(),
        other => url(other).into_iter().collect(),
    }
}
