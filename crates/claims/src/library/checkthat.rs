//! CheckThat! verified claims: `vclaim_id<TAB>vclaim<TAB>title`, one claim a
//! line, with an optional header line (`vclaim_id ...`).
//!
//! The lab writes these files as plain TSV: fields are split on TAB and
//! nothing is quoted, so a `"` is part of the text (`"Fake news," he said`
//! stays as written). A line whose first field is not an id (white space or
//! quote characters in it: what is left of a claim cut by a stray line
//! break) is quarantined, not read as a claim with free text as its id.

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
        if id
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '“' | '”' | '„' | '«' | '»'))
        {
            let shown: String = id.chars().take(80).collect();
            out.push(Err(reject(format!(
                "not a vclaim_id: {shown:?} has white space or quotes (a claim cut by a line break?)"
            ))));
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Claim>, Vec<Rejected>) {
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for r in parse(text.as_bytes()).unwrap() {
            match r {
                Ok(p) => ok.push(p.claim),
                Err(e) => bad.push(e),
            }
        }
        (ok, bad)
    }

    #[test]
    fn quotes_are_text_and_free_text_is_no_id() {
        // Issue 14, finding 11: a claim id became "judicial review of
        // genetically-engineered crops.”".
        let (ok, bad) = read(
            "vclaim_id\tvclaim\ttitle\n\
             vclaim-1\t\"Fake news,\" he said \"\"twice\"\"\tA \"title\n\
             vclaim-2\tCourts ordered a \u{201c}judicial\n\
             judicial review of genetically-engineered crops.\u{201d}\tcrops\n\
             \"vclaim-3\"\tquoted id\n\
             vclaim-4\tplain\n",
        );
        let ids: Vec<&str> = ok.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["vclaim-1", "vclaim-2", "vclaim-4"]);
        assert_eq!(ok[0].text, "\"Fake news,\" he said \"\"twice\"\"");
        assert_eq!(ok[0].title.as_deref(), Some("A \"title"));
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].line, Some(4));
        assert!(
            bad[0].reason.starts_with("not a vclaim_id"),
            "{}",
            bad[0].reason
        );
        assert_eq!(bad[1].line, Some(5));
    }
}
