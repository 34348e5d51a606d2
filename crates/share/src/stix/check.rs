//! A structural check of bundles Pharos writes: the properties every
//! exporter bug would break (ids, references, timestamps, markings). The
//! OASIS validator (`.ci/validate-stix`) is the full check; this one runs
//! in every `cargo test` and needs no Python.

use crate::stix::ids::parse_id;
use crate::stix::tlp::Tlp;
use serde_json::Value;
use std::collections::HashSet;

/// Problems found in a bundle (empty when it is sound).
pub fn check_bundle(b: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    if b.get("type").and_then(Value::as_str) != Some("bundle") {
        errs.push("not a bundle".to_string());
        return errs;
    }
    match b.get("id").and_then(Value::as_str).and_then(parse_id) {
        Some(("bundle", _)) => {}
        _ => errs.push(format!("bad bundle id {}", b["id"])),
    }
    let Some(objects) = b.get("objects").and_then(Value::as_array) else {
        errs.push("no objects".into());
        return errs;
    };
    let mut ids = HashSet::new();
    for o in objects {
        let id = o["id"].as_str().unwrap_or("");
        match parse_id(id) {
            Some((t, _)) if Some(t) == o["type"].as_str() => {}
            _ => errs.push(format!("{id}: id does not match type {}", o["type"])),
        }
        if !ids.insert(id.to_string()) {
            errs.push(format!("{id}: appears twice"));
        }
    }
    for o in objects {
        let id = o["id"].as_str().unwrap_or("");
        if o["spec_version"] != "2.1" {
            errs.push(format!("{id}: spec_version is not 2.1"));
        }
        let Some(m) = o.as_object() else { continue };
        for (k, v) in m {
            // Every reference resolves inside the bundle.
            let refs: Vec<&str> = if k.ends_with("_ref") {
                v.as_str().into_iter().collect()
            } else if k.ends_with("_refs") {
                v.as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            for r in refs {
                if !ids.contains(r) {
                    errs.push(format!("{id}: {k} -> {r} is not in the bundle"));
                }
            }
            // Timestamps are UTC with milliseconds.
            let is_time = matches!(
                k.as_str(),
                "created"
                    | "modified"
                    | "first_seen"
                    | "last_seen"
                    | "first_observed"
                    | "last_observed"
                    | "published"
                    | "valid_from"
            );
            if is_time {
                let t = v.as_str().unwrap_or("");
                let ok = t.len() == 24 && t.ends_with('Z') && t.as_bytes().get(19) == Some(&b'.');
                if !ok {
                    errs.push(format!("{id}: {k} {t:?} is not UTC with milliseconds"));
                }
            }
        }
        if let Some(path) = empty_list(o, "") {
            errs.push(format!(
                "{id}: empty list at {path} (STIX forbids empty lists)"
            ));
        }
        if o["type"] == "marking-definition" {
            if o.get("object_marking_refs").is_some() {
                errs.push(format!("{id}: a marking-definition must not be marked"));
            }
        } else {
            let marks = o["object_marking_refs"].as_array();
            let tlp = marks
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter_map(Tlp::from_marking_id)
                        .count()
                })
                .unwrap_or(0);
            if tlp != 1 {
                errs.push(format!("{id}: carries {tlp} TLP markings, not 1"));
            }
        }
        if let (Some(c), Some(m)) = (o["created"].as_str(), o["modified"].as_str())
            && m < c
        {
            errs.push(format!("{id}: modified {m} before created {c}"));
        }
    }
    errs
}

/// The path of the first empty list inside `v`.
fn empty_list(v: &Value, at: &str) -> Option<String> {
    match v {
        Value::Array(a) if a.is_empty() => Some(at.to_string()),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| empty_list(x, &format!("{at}[{i}]"))),
        Value::Object(m) => m
            .iter()
            .find_map(|(k, x)| empty_list(x, &format!("{at}.{k}"))),
        _ => None,
    }
}
