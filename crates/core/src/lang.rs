//! Language codes.
//!
//! Pharos stores ISO 639-1 codes (`en`, `ru`, `uk`, ...). Sources write codes,
//! three-letter codes, locale tags (`en-GB`) or names (`English`, `Russian`);
//! [`normalize_lang`] maps all of them to the two-letter code. Twitter's
//! `und` (undetermined) and empty values become `None` so that detection can
//! fill them in.

const TABLE: &[(&str, &str, &str)] = &[
    // (iso1, iso3, English name)
    ("en", "eng", "english"),
    ("ru", "rus", "russian"),
    ("uk", "ukr", "ukrainian"),
    ("de", "deu", "german"),
    ("fr", "fra", "french"),
    ("pl", "pol", "polish"),
    ("ar", "ara", "arabic"),
    ("es", "spa", "spanish"),
    ("it", "ita", "italian"),
    ("pt", "por", "portuguese"),
    ("nl", "nld", "dutch"),
    ("tr", "tur", "turkish"),
    ("be", "bel", "belarusian"),
    ("bg", "bul", "bulgarian"),
    ("cs", "ces", "czech"),
    ("sk", "slk", "slovak"),
    ("ro", "ron", "romanian"),
    ("hu", "hun", "hungarian"),
    ("sr", "srp", "serbian"),
    ("hr", "hrv", "croatian"),
    ("lt", "lit", "lithuanian"),
    ("lv", "lav", "latvian"),
    ("et", "est", "estonian"),
    ("fi", "fin", "finnish"),
    ("sv", "swe", "swedish"),
    ("da", "dan", "danish"),
    ("no", "nor", "norwegian"),
    ("nb", "nob", "bokmal"),
    ("el", "ell", "greek"),
    ("ka", "kat", "georgian"),
    ("hy", "hye", "armenian"),
    ("az", "aze", "azerbaijani"),
    ("kk", "kaz", "kazakh"),
    ("fa", "fas", "persian"),
    ("he", "heb", "hebrew"),
    ("hi", "hin", "hindi"),
    ("ur", "urd", "urdu"),
    ("zh", "zho", "chinese"),
    ("ja", "jpn", "japanese"),
    ("ko", "kor", "korean"),
    ("id", "ind", "indonesian"),
    ("vi", "vie", "vietnamese"),
    ("th", "tha", "thai"),
];

/// Two-letter code for a code, three-letter code, locale tag or English name;
/// `None` for empty, `und`, `zxx` and unknown values.
pub fn normalize_lang(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let lower = v.to_ascii_lowercase();
    let base = lower.split(['-', '_']).next().unwrap_or("");
    if matches!(base, "und" | "zxx" | "qme" | "qht" | "qam" | "qct" | "art") {
        return None;
    }
    for (iso1, iso3, name) in TABLE {
        if base == *iso1 || base == *iso3 || lower == *name {
            return Some((*iso1).to_string());
        }
    }
    // "ukr"-style bibliographic codes and native names of the main languages.
    let alias = match lower.as_str() {
        "ger" => "de",
        "fre" => "fr",
        "русский" => "ru",
        "українська" => "uk",
        "deutsch" => "de",
        "français" | "francais" => "fr",
        "polski" => "pl",
        "español" | "espanol" => "es",
        "italiano" => "it",
        "العربية" => "ar",
        _ => "",
    };
    if !alias.is_empty() {
        return Some(alias.to_string());
    }
    // Keep other well-formed two-letter codes as they are.
    if base.len() == 2 && base.bytes().all(|c| c.is_ascii_lowercase()) {
        return Some(base.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::normalize_lang;

    #[test]
    fn codes_and_names() {
        assert_eq!(normalize_lang("English").as_deref(), Some("en"));
        assert_eq!(normalize_lang("Russian").as_deref(), Some("ru"));
        assert_eq!(normalize_lang("uk").as_deref(), Some("uk"));
        assert_eq!(normalize_lang("en-GB").as_deref(), Some("en"));
        assert_eq!(normalize_lang("deu").as_deref(), Some("de"));
        assert_eq!(normalize_lang("und"), None);
        assert_eq!(normalize_lang(""), None);
        assert_eq!(normalize_lang("Klingon"), None);
    }
}
