//! CheckThat! verified claims: `vclaim_id<TAB>vclaim<TAB>title`, one claim a
//! line, with an optional header line (`vclaim_id ...`).

use super::normalize::nonempty;
use super::{Parsed, Records, Rejected};
use crate::model::Claim;

pub(crate) fn parse(bytes: &[u8]) -> Result<Records, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Records::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let reject = |reason: String| Rejected {
            line: Some(line_no),
            record: None,
            reason,
            raw: String::from_utf8_lossy(raw).into_owned(),
        };
        let line = match std::str::from_utf8(raw) {
            Ok(l) => l,
            Err(e) => {
                out.push(Err(reject(format!(
                    "invalid UTF-8: at byte {}",
                    e.valid_up_to()
                ))));
                continue;
            }
        };
        if line_no == 1
            && line
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("vclaim_id")
        {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 2 || fields.len() > 3 {
            out.push(Err(reject(format!(
                "expected 2 or 3 tab-separated fields (vclaim_id, vclaim, title): found {}",
                fields.len()
            ))));
            continue;
        }
        let Some(id) = nonempty(fields[0]) else {
            out.push(Err(reject(
                "missing vclaim_id: the first field is empty".into(),
            )));
            continue;
        };
        let Some(text) = nonempty(fields[1]) else {
            out.push(Err(reject(format!(
                "missing vclaim: claim {id} has no text"
            ))));
            continue;
        };
        out.push(Ok(Parsed {
            claim: Claim {
                id,
                text,
                title: fields.get(2).and_then(|t| nonempty(t)),
                ..Claim::default()
            },
            line: Some(line_no),
            record: None,
        }));
    }
    Ok(out)
}
