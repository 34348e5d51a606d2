//! C2PA provenance, read and verified offline with the `c2pa` crate (the
//! Content Authenticity Initiative's SDK): no remote manifests, no trust list
//! fetched. `valid` means the claim signature and the hard binding to the
//! content both verify; a signer outside any trust list does not make it
//! invalid (the test chain is such a signer), anything else does.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::xmp;

/// What the active C2PA manifest of a file says. Deserialises the object
/// `pharos media scan` stores (which adds `failures`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct C2pa {
    /// The claim signature and the hard binding (the content hash) verify.
    pub valid: bool,
    /// The active manifest declares `trainedAlgorithmicMedia` or
    /// `compositeWithTrainedAlgorithmicMedia`.
    pub ai_generated: bool,
    /// The full IPTC digital-source-type URI declared in the active
    /// manifest's actions, or null.
    pub digital_source_type: Option<String>,
    /// `claim_generator` (v1 claims) or the first `claim_generator_info`
    /// entry as "name/version" (v2 claims).
    pub claim_generator: Option<String>,
    /// The signing certificate's common name (else its organisation), or null.
    pub signer: Option<String>,
    /// The validation failure codes (e.g. `assertion.dataHash.mismatch`
    /// when the pixels changed after signing); empty when valid. Not in
    /// `inspect`'s JSON (its fields are fixed); read back when present.
    #[serde(default, skip_serializing)]
    pub failures: Vec<String>,
}

/// Why the C2PA reader gave up on a file that does carry a manifest.
fn broken(reason: String) -> C2pa {
    C2pa {
        valid: false,
        ai_generated: false,
        digital_source_type: None,
        claim_generator: None,
        signer: None,
        failures: vec![reason],
    }
}

/// An offline reader: no remote manifests, no OCSP, verification on.
fn reader() -> c2pa::Reader {
    let mut context = c2pa::Context::new();
    let verify = &mut context.settings_mut().verify;
    verify.remote_manifest_fetch = false;
    verify.ocsp_fetch = false;
    verify.verify_after_reading = true;
    c2pa::Reader::from_context(context)
}

/// Read and verify the C2PA manifest of a file: `None` when it carries none.
pub fn read_file(path: &Path) -> Option<C2pa> {
    match reader().with_file(path) {
        Ok(r) => Some(from_reader(&r)),
        Err(e) => from_error(e),
    }
}

/// Read and verify the C2PA manifest of in-memory bytes of the given MIME type.
pub fn read_bytes(mime: &str, bytes: &[u8]) -> Option<C2pa> {
    match reader().with_stream(mime, std::io::Cursor::new(bytes)) {
        Ok(r) => Some(from_reader(&r)),
        Err(e) => from_error(e),
    }
}

fn from_error(e: c2pa::Error) -> Option<C2pa> {
    match e {
        c2pa::Error::JumbfNotFound
        | c2pa::Error::ProvenanceMissing
        | c2pa::Error::UnsupportedType
        | c2pa::Error::RemoteManifestUrl(_) => None,
        other => Some(broken(format!("unreadable manifest: {other}"))),
    }
}

fn from_reader(reader: &c2pa::Reader) -> C2pa {
    let state = reader.validation_state();
    let valid = matches!(
        state,
        c2pa::ValidationState::Valid | c2pa::ValidationState::Trusted
    );
    let mut failures: Vec<String> = reader
        .validation_results()
        .and_then(|r| r.active_manifest())
        .map(|m| m.failure().iter().map(|s| s.code().to_string()).collect())
        .unwrap_or_default();
    if failures.is_empty()
        && let Some(st) = reader.validation_status()
    {
        failures = st.iter().map(|s| s.code().to_string()).collect();
    }
    failures.retain(|c| c != "signingCredential.untrusted");
    let json: Value = serde_json::from_str(&reader.json()).unwrap_or(Value::Null);
    let active = reader
        .active_label()
        .and_then(|l| json.get("manifests")?.get(l))
        .cloned()
        .unwrap_or(Value::Null);
    let digital_source_type = source_type(&active);
    C2pa {
        valid,
        ai_generated: digital_source_type
            .as_deref()
            .is_some_and(xmp::is_ai_source_type),
        digital_source_type,
        claim_generator: claim_generator(&active),
        signer: signer(&active),
        failures: if valid { Vec::new() } else { failures },
    }
}

fn claim_generator(m: &Value) -> Option<String> {
    if let Some(s) = m.get("claim_generator").and_then(Value::as_str) {
        return Some(s.to_string());
    }
    let info = m.get("claim_generator_info")?.as_array()?.first()?;
    let name = info.get("name").and_then(Value::as_str)?;
    Some(match info.get("version").and_then(Value::as_str) {
        Some(v) => format!("{name}/{v}"),
        None => name.to_string(),
    })
}

fn signer(m: &Value) -> Option<String> {
    let s = m.get("signature_info")?;
    ["common_name", "issuer"]
        .iter()
        .find_map(|k| s.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

/// The digital source type declared by the active manifest's actions
/// (`c2pa.actions` or `c2pa.actions.v2`): the first action that carries one,
/// `c2pa.created` first.
fn source_type(m: &Value) -> Option<String> {
    let assertions = m.get("assertions")?.as_array()?;
    let mut found: Option<String> = None;
    for a in assertions {
        let label = a.get("label").and_then(Value::as_str).unwrap_or("");
        if !label.starts_with("c2pa.actions") {
            continue;
        }
        let Some(actions) = a.pointer("/data/actions").and_then(Value::as_array) else {
            continue;
        };
        for act in actions {
            let Some(t) = act.get("digitalSourceType").and_then(Value::as_str) else {
                continue;
            };
            let created = act.get("action").and_then(Value::as_str) == Some("c2pa.created");
            if created {
                return Some(t.to_string());
            }
            found.get_or_insert_with(|| t.to_string());
        }
    }
    found
}
