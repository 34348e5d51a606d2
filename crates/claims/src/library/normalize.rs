//! Normal forms used for deduplication and ids.

use sha2::{Digest, Sha256};

/// The form claim texts are compared in: lowercase, letters and digits only,
/// one space between words ("Vaccines  CAUSE autism!" → "vaccines cause autism").
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(ch.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// A stable claim id: `prefix-` and 16 hex digits of the SHA-256 of the parts
/// (joined by a separator no text contains).
pub fn claim_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0x1f]);
        }
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    format!("{prefix}-{}", hex::encode(&d[..8]))
}

/// The language of a claim, when the one detector (`pharos_core::lang`)
/// calls its guess reliable.
pub(crate) fn detect_lang(text: &str) -> Option<String> {
    pharos_core::lang::detect_reliable(text).map(str::to_string)
}

/// A language code from a source value (`en`, `en-GB`, `English`, ...).
pub(crate) fn lang_code(v: &str) -> Option<String> {
    pharos_core::lang::normalize_lang(v)
}

/// A date as `YYYY-MM-DD` or RFC 3339 when it parses, else as given (trimmed);
/// `None` when empty.
pub(crate) fn date(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match pharos_core::EventTime::parse(v) {
        Ok(t) if v.len() <= 10 => Some(t.day()),
        Ok(t) => Some(t.to_rfc3339()),
        Err(_) => Some(v.to_string()),
    }
}

/// A non-empty trimmed string.
pub(crate) fn nonempty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_text_ignores_case_punctuation_and_spacing() {
        assert_eq!(
            normalize_text("  Vaccines  CAUSE autism! "),
            "vaccines cause autism"
        );
        assert_eq!(normalize_text("Зеленский — бежал?"), "зеленский бежал");
        assert_eq!(normalize_text("..."), "");
    }

    #[test]
    fn ids_are_stable_and_separate_parts() {
        assert_eq!(claim_id("fc", &["a", "b"]), claim_id("fc", &["a", "b"]));
        assert_ne!(claim_id("fc", &["ab", ""]), claim_id("fc", &["a", "b"]));
        assert!(claim_id("fc", &["x"]).starts_with("fc-"));
        assert_eq!(claim_id("fc", &["x"]).len(), 3 + 16);
    }

    #[test]
    fn dates_normalise_when_they_parse() {
        assert_eq!(date("2021-03-04").as_deref(), Some("2021-03-04"));
        assert_eq!(
            date("2021-03-04T10:00:00Z").as_deref(),
            Some("2021-03-04T10:00:00.000Z")
        );
        assert_eq!(date("last spring").as_deref(), Some("last spring"));
        assert_eq!(date(" "), None);
    }
}
