//! Language codes.
//!
//! Pharos stores ISO 639-1 codes (`en`, `ru`, `uk`, ...). Sources write codes,
//! three-letter codes, locale tags (`en-GB`) or names (`English`, `Russian`);
//! [`normalize_lang`] maps all of them to the two-letter code. Twitter's
//! `und` (undetermined) and empty values become `None` so that detection can
//! fill them in.
//!
//! [`detect`] is the one language detector of Pharos (whatlang's trigram
//! models, 70 languages): the ingest normaliser, the narrative engine,
//! claim retrieval and the fact-check library all call it, so a language
//! means the same wherever it was found.

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

/// How much cleaned text [`detect`] looks at: a language shows in its first
/// few thousand letters, and detection time grows with the length.
const DETECT_BYTES: usize = 16 << 10;

/// The language of `text` as an ISO 639-1 code (`en`, `ru`, `uk`, `de`,
/// `fr`, `pl`, `ar`, `es`, ...), the rule for posts: URLs, mentions,
/// hashtags and `RT` are removed first; `None` when fewer than 8 letters
/// remain or whatlang's confidence is below 0.3.
///
/// ```
/// use pharos_core::lang::detect;
/// assert_eq!(detect("Евросоюз ограничит подачу электричества в дома"), Some("ru"));
/// assert_eq!(detect("@bob https://x.y #tag ok"), None);
/// ```
pub fn detect(text: &str) -> Option<&'static str> {
    detect_at(text, Confidence::Likely)
}

/// [`detect`], but only when whatlang calls its guess reliable (confidence
/// above 0.9): for texts that are stored once and matched against for a
/// long time (the fact-check library's claims), where a wrong language is
/// worse than none.
pub fn detect_reliable(text: &str) -> Option<&'static str> {
    detect_at(text, Confidence::Reliable)
}

#[derive(Clone, Copy, PartialEq)]
enum Confidence {
    /// Confidence 0.3 or more.
    Likely,
    /// whatlang's `is_reliable` (above 0.9).
    Reliable,
}

fn detect_at(text: &str, need: Confidence) -> Option<&'static str> {
    let mut clean = String::with_capacity(text.len().min(DETECT_BYTES + 64));
    for word in text.split_whitespace() {
        if word.starts_with("http")
            || word.starts_with('@')
            || word.starts_with('#')
            || word == "RT"
        {
            continue;
        }
        clean.push_str(word);
        clean.push(' ');
        if clean.len() >= DETECT_BYTES {
            break;
        }
    }
    if clean.chars().filter(|c| c.is_alphabetic()).count() < 8 {
        return None;
    }
    let info = whatlang::detect(&clean)?;
    let ok = match need {
        Confidence::Likely => info.confidence() >= 0.3,
        Confidence::Reliable => info.is_reliable(),
    };
    ok.then(|| iso639_1(info.lang()))
}

/// The ISO 639-1 code of a whatlang language (every language whatlang
/// knows has one).
fn iso639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match lang {
        Epo => "eo",
        Eng => "en",
        Rus => "ru",
        Cmn => "zh",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Ben => "bn",
        Fra => "fr",
        Deu => "de",
        Ukr => "uk",
        Kat => "ka",
        Ara => "ar",
        Hin => "hi",
        Jpn => "ja",
        Heb => "he",
        Yid => "yi",
        Pol => "pl",
        Amh => "am",
        Jav => "jv",
        Kor => "ko",
        Nob => "nb",
        Dan => "da",
        Swe => "sv",
        Fin => "fi",
        Tur => "tr",
        Nld => "nl",
        Hun => "hu",
        Ces => "cs",
        Ell => "el",
        Bul => "bg",
        Bel => "be",
        Mar => "mr",
        Kan => "kn",
        Ron => "ro",
        Slv => "sl",
        Hrv => "hr",
        Srp => "sr",
        Mkd => "mk",
        Lit => "lt",
        Lav => "lv",
        Est => "et",
        Tam => "ta",
        Vie => "vi",
        Urd => "ur",
        Tha => "th",
        Guj => "gu",
        Uzb => "uz",
        Pan => "pa",
        Aze => "az",
        Ind => "id",
        Tel => "te",
        Pes => "fa",
        Mal => "ml",
        Ori => "or",
        Mya => "my",
        Nep => "ne",
        Sin => "si",
        Khm => "km",
        Tuk => "tk",
        Aka => "ak",
        Zul => "zu",
        Sna => "sn",
        Afr => "af",
        Lat => "la",
        Slk => "sk",
        Cat => "ca",
        Tgl => "tl",
        Hye => "hy",
        Cym => "cy",
    }
}

#[cfg(test)]
mod tests {
    use super::{detect, detect_reliable, normalize_lang};

    #[test]
    fn detects_the_main_languages() {
        let cases = [
            (
                "en",
                "The government will ration household electricity from next month",
            ),
            (
                "ru",
                "Правительство со следующего месяца ограничит подачу электричества",
            ),
            (
                "uk",
                "Уряд з наступного місяця обмежить постачання електроенергії домогосподарствам",
            ),
            (
                "de",
                "Die Regierung wird ab nächstem Monat den Haushaltsstrom rationieren",
            ),
            (
                "fr",
                "Le gouvernement rationnera l'électricité des ménages dès le mois prochain",
            ),
            (
                "pl",
                "Rząd od przyszłego miesiąca ograniczy dostawy prądu do gospodarstw domowych",
            ),
            ("zh", "政府将从下个月开始对家庭用电实行配给制度"),
        ];
        for (want, text) in cases {
            assert_eq!(detect(text), Some(want), "{text}");
            assert_eq!(
                detect(&format!("RT @bob: {text} https://x.y/z #tag")),
                Some(want)
            );
        }
        assert_eq!(detect("ok lol"), None, "fewer than 8 letters");
        assert_eq!(detect("@bob https://x.y #tag RT"), None);
        assert_eq!(
            detect_reliable("The government will ration household electricity from next month"),
            Some("en")
        );
    }

    #[test]
    fn every_code_detected_is_a_two_letter_code() {
        for l in whatlang::Lang::all() {
            let code = super::iso639_1(*l);
            assert_eq!(code.len(), 2, "{l:?}");
            assert_eq!(normalize_lang(code).as_deref(), Some(code), "{l:?}");
        }
    }

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
