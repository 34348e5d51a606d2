//! GraphML output of a coordination report, for Gephi, Cytoscape, igraph
//! and NetworkX.
//!
//! Nodes are `n0`, `n1`, ... (in the report's account order) with the
//! attributes `account`, `community`, `component`, `degree`, `strength`,
//! `posts` and `coordinated_posts`; edges carry `weight`, the method's
//! columns (CooRTweet: `avg_time_delta`, `n_content_id`, `n_content_id_y`,
//! `edge_symmetry_score`, `weight_threshold`, or their `_full` / `_fast`
//! forms; directed: `kind`), `community` (-1 when the ends are in two
//! communities), `component` and `evidence_total`. A directed network is
//! written with `edgedefault="directed"`.
//!
//! Text is escaped for XML 1.0, and characters XML 1.0 cannot hold
//! (control characters other than tab and line breaks) become U+FFFD.

use super::report::CoordinationReport;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, Write};

/// Writes `report` as GraphML.
pub fn write_graphml<W: Write>(report: &CoordinationReport, out: W) -> io::Result<()> {
    let mut w = io::BufWriter::new(out);
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">"#
    )?;
    let node_keys = [
        ("account", "string"),
        ("community", "int"),
        ("component", "int"),
        ("degree", "long"),
        ("strength", "double"),
        ("posts", "long"),
        ("coordinated_posts", "long"),
    ];
    for (k, (name, ty)) in node_keys.iter().enumerate() {
        writeln!(
            w,
            r#"  <key id="v{k}" for="node" attr.name="{name}" attr.type="{ty}"/>"#
        )?;
    }
    // Edge columns: every name seen, typed by its first non-null value.
    let mut columns: Vec<(String, &'static str)> = vec![("weight".into(), "double")];
    let mut seen: HashMap<String, usize> = HashMap::from([("weight".to_string(), 0)]);
    for e in &report.edges {
        for (name, v) in &e.columns {
            let ty = match v {
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_i64() || n.is_u64() => "long",
                Value::Number(_) => "double",
                Value::String(_) => "string",
                _ => continue,
            };
            if let Some(&i) = seen.get(name) {
                // A column that is sometimes whole, sometimes not, is a double.
                if columns[i].1 == "long" && ty == "double" {
                    columns[i].1 = "double";
                }
                continue;
            }
            seen.insert(name.clone(), columns.len());
            columns.push((name.clone(), ty));
        }
    }
    for extra in ["community", "component", "evidence_total"] {
        if !seen.contains_key(extra) {
            seen.insert(extra.to_string(), columns.len());
            columns.push((extra.to_string(), "long"));
        }
    }
    for (k, (name, ty)) in columns.iter().enumerate() {
        writeln!(
            w,
            r#"  <key id="e{k}" for="edge" attr.name="{}" attr.type="{ty}"/>"#,
            escape(name)
        )?;
    }
    let dir = if report.directed {
        "directed"
    } else {
        "undirected"
    };
    writeln!(
        w,
        r#"  <graph id="{}" edgedefault="{dir}">"#,
        escape(&format!("coordination-{}", report.method))
    )?;
    let mut node_of: HashMap<&str, usize> = HashMap::new();
    for (i, a) in report.accounts.iter().enumerate() {
        node_of.insert(a.account.as_str(), i);
        write!(w, r#"    <node id="n{i}">"#)?;
        write!(w, r#"<data key="v0">{}</data>"#, escape(&a.account))?;
        write!(w, r#"<data key="v1">{}</data>"#, a.community)?;
        write!(w, r#"<data key="v2">{}</data>"#, a.component)?;
        write!(w, r#"<data key="v3">{}</data>"#, a.degree)?;
        write!(w, r#"<data key="v4">{}</data>"#, a.strength)?;
        write!(w, r#"<data key="v5">{}</data>"#, a.posts)?;
        write!(w, r#"<data key="v6">{}</data>"#, a.coordinated_posts)?;
        writeln!(w, "</node>")?;
    }
    for (i, e) in report.edges.iter().enumerate() {
        let (Some(s), Some(t)) = (node_of.get(e.from.as_str()), node_of.get(e.to.as_str())) else {
            continue;
        };
        write!(w, r#"    <edge id="e{i}" source="n{s}" target="n{t}">"#)?;
        write!(w, r#"<data key="e0">{}</data>"#, e.weight)?;
        for (name, v) in &e.columns {
            let k = seen[name.as_str()];
            let text = match v {
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::String(s) => escape(s),
                _ => continue,
            };
            write!(w, r#"<data key="e{k}">{text}</data>"#)?;
        }
        if !e.columns.contains_key("community") {
            let c = e.community.map_or(-1, i64::from);
            write!(w, r#"<data key="e{}">{c}</data>"#, seen["community"])?;
        }
        if !e.columns.contains_key("component") {
            write!(
                w,
                r#"<data key="e{}">{}</data>"#,
                seen["component"], e.component
            )?;
        }
        if !e.columns.contains_key("evidence_total") {
            write!(
                w,
                r#"<data key="e{}">{}</data>"#,
                seen["evidence_total"], e.evidence_total
            )?;
        }
        writeln!(w, "</edge>")?;
    }
    writeln!(w, "  </graph>")?;
    writeln!(w, "</graphml>")?;
    w.flush()
}

/// Escapes text and attribute values for XML 1.0.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_invalid_characters() {
        assert_eq!(
            escape(r#"a<b>&"c"'d'"#),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
        assert_eq!(escape("x\u{1}y\tz"), "x\u{fffd}y\tz");
    }
}
