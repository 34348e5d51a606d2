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
    if let Some((lang, evidence)) = cyrillic(info.lang(), &clean) {
        // Trigrams tell the East and South Slavic languages apart badly on
        // short texts (Russian posts read as Bulgarian or Ukrainian, or
        // with a confidence below 0.3): their alphabets and function words
        // tell them apart better.
        let agrees = lang == iso639_1(info.lang());
        let ok = match need {
            Confidence::Likely => evidence >= 1 || (agrees && info.confidence() >= 0.3),
            Confidence::Reliable => evidence >= 3 || (agrees && info.is_reliable()),
        };
        return ok.then_some(lang);
    }
    let ok = match need {
        Confidence::Likely => info.confidence() >= 0.3,
        Confidence::Reliable => info.is_reliable(),
    };
    if !ok && info.script() == whatlang::Script::Arabic {
        // Arabic, Persian and Urdu share most letters; the ones Persian
        // and Urdu add (and Arabic lacks) decide.
        return arabic_script(&clean, need);
    }
    if !ok && info.script() == whatlang::Script::Latin {
        // Too close to call by trigrams (a short post, names and English
        // words in it): a clear majority of function words decides.
        let need_margin = match need {
            Confidence::Likely => 2,
            Confidence::Reliable => 3,
        };
        return by_function_words(&clean, need_margin);
    }
    ok.then(|| iso639_1(info.lang()))
}

/// Arabic, Persian or Urdu by the letters only Persian (پ چ ژ گ ک ی) and
/// Urdu (ٹ ڈ ڑ ں ے) write; a text using neither is Arabic (for
/// [`Confidence::Reliable`], when it has 20 letters or more).
fn arabic_script(text: &str, need: Confidence) -> Option<&'static str> {
    let (mut fa, mut ur, mut letters) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        match c {
            'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی' => fa += 1,
            'ٹ' | 'ڈ' | 'ڑ' | 'ں' | 'ے' => ur += 1,
            _ => {}
        }
        if ('\u{0620}'..='\u{06FF}').contains(&c) {
            letters += 1;
        }
    }
    match (fa, ur) {
        (0, 0) if need == Confidence::Likely || letters >= 20 => Some("ar"),
        (_, 0) if fa > 0 => Some("fa"),
        (_, u) if u > 0 => Some("ur"),
        _ => None,
    }
}

/// The Latin-script language most of `text`'s function words belong to,
/// when it has at least `margin` more of them than any other (a word
/// several languages share counts for each).
fn by_function_words(text: &str, margin: usize) -> Option<&'static str> {
    let mut votes = [0usize; FUNCTION_WORDS.len()];
    for w in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty() && w.len() <= 16)
    {
        let w = w.to_lowercase();
        for (i, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
            if words.contains(&w.as_str()) {
                votes[i] += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..votes.len()).collect();
    order.sort_by(|a, b| votes[*b].cmp(&votes[*a]));
    let (top, second) = (votes[order[0]], votes[order[1]]);
    (top >= 2 && top >= second + margin).then_some(FUNCTION_WORDS[order[0]].0)
}

/// The commonest function words of the Latin-script languages posts come
/// in most (articles, prepositions, conjunctions, pronouns, auxiliaries).
const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "and", "of", "to", "is", "are", "was", "were", "that", "this", "with", "for",
            "not", "you", "he", "she", "they", "it", "be", "have", "has", "at", "by", "from",
            "but", "or", "an", "will", "would", "his", "her", "their", "what", "who", "when",
            "there", "about", "just", "on", "my", "me", "we", "our", "your", "been", "do", "did",
        ],
    ),
    (
        "es",
        &[
            "el", "la", "los", "las", "de", "del", "y", "en", "que", "es", "un", "una", "por",
            "para", "con", "no", "se", "su", "sus", "al", "lo", "le", "más", "pero", "como",
            "está", "este", "esta", "son", "hay", "ya", "muy", "mi", "yo", "sin", "sobre", "hasta",
            "ni", "porque", "cuando", "todo", "también", "fue", "ha", "han", "qué", "él", "nos",
            "les", "me", "te",
        ],
    ),
    (
        "pt",
        &[
            "o", "a", "os", "as", "de", "do", "da", "dos", "das", "e", "em", "no", "na", "nos",
            "nas", "que", "é", "um", "uma", "por", "para", "com", "não", "se", "seu", "sua", "ao",
            "mais", "mas", "como", "está", "este", "esta", "são", "há", "já", "muito", "eu", "sem",
            "sobre", "até", "porque", "quando", "tudo", "também", "foi", "pelo", "pela", "você",
            "ele", "ela", "isso",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "de", "des", "du", "et", "en", "que", "qui", "est", "un", "une",
            "pour", "par", "avec", "ne", "pas", "se", "sur", "au", "aux", "plus", "mais", "comme",
            "ce", "cette", "ces", "sont", "il", "elle", "ils", "je", "vous", "nous", "on", "dans",
            "été", "tout", "aussi", "très", "sans", "son", "sa", "ses",
        ],
    ),
    (
        "it",
        &[
            "il", "lo", "la", "i", "gli", "le", "di", "del", "della", "dei", "e", "è", "in", "che",
            "un", "una", "per", "con", "non", "si", "su", "al", "alla", "più", "ma", "come",
            "questo", "questa", "sono", "ha", "hanno", "già", "molto", "io", "senza", "anche",
            "perché", "quando", "tutto", "era", "stato", "nel", "nella",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "den", "dem", "des", "und", "ist", "sind", "ein", "eine", "einen",
            "nicht", "mit", "von", "zu", "für", "auf", "im", "in", "es", "sich", "auch", "wie",
            "aber", "nach", "bei", "aus", "wird", "werden", "hat", "haben", "dass", "er", "sie",
            "wir", "ich", "noch", "nur", "schon", "wenn", "oder",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "van", "is", "zijn", "niet", "met", "op", "te", "voor",
            "dat", "die", "er", "ook", "maar", "bij", "naar", "als", "om", "wordt", "worden",
            "heeft", "hebben", "ik", "we", "ze", "nog", "wel",
        ],
    ),
    (
        "ca",
        &[
            "el", "la", "els", "les", "de", "del", "dels", "i", "en", "que", "és", "un", "una",
            "per", "amb", "no", "es", "al", "als", "més", "però", "com", "aquest", "aquesta",
            "són", "ha", "han", "molt", "jo", "sense", "sobre", "perquè", "quan", "tot", "també",
            "va", "ja",
        ],
    ),
    (
        "pl",
        &[
            "i", "w", "z", "na", "do", "nie", "się", "to", "jest", "że", "jak", "o", "od", "po",
            "za", "co", "ale", "czy", "tak", "dla", "jego", "już", "tylko", "są", "był", "była",
            "przez", "przy", "ten", "ta", "też", "jeszcze", "może", "bo", "mnie", "ich",
        ],
    ),
];

/// Russian, Ukrainian or Bulgarian, when whatlang guessed one of the
/// Cyrillic languages and the text's letters or words decide among them:
/// the language and how many signs point to it more than to the others
/// (`None`: keep whatlang's guess).
///
/// - Ukrainian writes і, ї, є and ґ and never ы, э or ё; Russian the
///   reverse; Belarusian has ў, Serbian and Macedonian ј, љ, њ (their
///   guesses are kept);
/// - a text of 20 letters or more without і, ї, є or ґ is not Ukrainian;
/// - Russian and Bulgarian share their letters but not their function
///   words (что, это, из, для… against че, това, ще, към…), nor Russian's
///   -ться/-тся and -ого/-его endings or Bulgarian's ъ inside words and
///   article -ът.
fn cyrillic(guess: whatlang::Lang, text: &str) -> Option<(&'static str, usize)> {
    use whatlang::Lang::*;
    if !matches!(guess, Rus | Ukr | Bul | Bel | Mkd | Srp) {
        return None;
    }
    let (mut uk, mut ru, mut other, mut letters) = (0usize, 0usize, 0usize, 0usize);
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'і' | 'ї' | 'є' | 'ґ' => uk += 1,
            'ы' | 'э' | 'ё' => ru += 1,
            'ў' | 'ј' | 'љ' | 'њ' | 'ђ' | 'ћ' | 'џ' | 'ѓ' | 'ќ' | 'ѕ' => other += 1,
            _ => {}
        }
        if ('а'..='я').contains(&c) {
            letters += 1;
        }
    }
    if other > 0 || (uk > 0 && ru > 0) {
        return None;
    }
    if uk > 0 {
        return Some(("uk", uk));
    }
    if ru > 0 {
        return Some(("ru", ru + 1));
    }
    let (mut ru_words, mut bg_words) = (0usize, 0usize);
    for w in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
    {
        let w = w.to_lowercase();
        if RU_WORDS.contains(&w.as_str())
            || (w.chars().count() > 4
                && [
                    "ться", "тся", "ого", "его", "ому", "ему", "ий", "ской", "ском",
                ]
                .iter()
                .any(|e| w.ends_with(e))
                && w != "много")
        {
            ru_words += 1;
        }
        if BG_WORDS.contains(&w.as_str()) || (w.chars().count() > 3 && w.ends_with("ът")) {
            bg_words += 1;
        }
        // ъ inside a word, not before a soft vowel (Russian's
        // separating ъ: объявил, съезд).
        let chars: Vec<char> = w.chars().collect();
        if chars
            .windows(2)
            .any(|p| p[0] == 'ъ' && !matches!(p[1], 'е' | 'ё' | 'ю' | 'я'))
        {
            bg_words += 1;
        }
    }
    match ru_words.cmp(&bg_words) {
        std::cmp::Ordering::Greater => Some(("ru", ru_words - bg_words)),
        std::cmp::Ordering::Less => Some(("bg", bg_words - ru_words)),
        std::cmp::Ordering::Equal if guess == Ukr && letters >= 20 => {
            // Not Ukrainian; Russian or Bulgarian, by the trigrams.
            let d = whatlang::Detector::with_allowlist(vec![Rus, Bul]).detect(text)?;
            Some((iso639_1(d.lang()), 1 + usize::from(d.is_reliable()) * 2))
        }
        std::cmp::Ordering::Equal => None,
    }
}

/// Function words of Russian that Bulgarian does not use.
const RU_WORDS: &[&str] = &[
    "что",
    "это",
    "этот",
    "эта",
    "эти",
    "из",
    "у",
    "его",
    "её",
    "ее",
    "был",
    "будет",
    "будут",
    "если",
    "уже",
    "только",
    "когда",
    "нет",
    "даже",
    "вот",
    "где",
    "ещё",
    "еще",
    "больше",
    "они",
    "она",
    "он",
    "мне",
    "меня",
    "тебя",
    "себя",
    "так",
    "же",
    "для",
    "чтобы",
    "который",
    "которая",
    "которое",
    "которые",
    "сейчас",
    "сегодня",
    "теперь",
    "очень",
    "почему",
    "тоже",
    "также",
    "потому",
    "через",
    "может",
    "можно",
    "нужно",
    "надо",
    "здесь",
    "какой",
    "какая",
    "какие",
    "кто",
    "тот",
    "их",
    "про",
    "вас",
    "нам",
    "ему",
    "ней",
    "них",
    "всех",
    "всем",
];

/// Function words of Bulgarian that Russian does not use.
const BG_WORDS: &[&str] = &[
    "че",
    "това",
    "тази",
    "този",
    "тези",
    "се",
    "са",
    "е",
    "ще",
    "който",
    "която",
    "които",
    "което",
    "във",
    "със",
    "към",
    "също",
    "беше",
    "няма",
    "има",
    "ги",
    "го",
    "му",
    "ви",
    "аз",
    "ти",
    "тя",
    "нещо",
    "някой",
    "всички",
    "днес",
    "сега",
    "защо",
    "когато",
    "където",
    "тук",
    "още",
    "вече",
    "дори",
    "най",
    "ако",
];

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
    fn the_second_opinions_leave_other_languages_as_they_are() {
        for (text, lang) in [
            (
                "Правителството обяви, че от утре цените на тока ще бъдат по-високи.",
                "bg",
            ),
            (
                "Според министъра това е най-добрият бюджет, който България е имала.",
                "bg",
            ),
            (
                "Кметът каза, че няма да има нови данъци през тази година.",
                "bg",
            ),
            (
                "Уряд оголосив, що з понеділка ціни на світло зростуть удвічі.",
                "uk",
            ),
            (
                "Міністр сказав, що це найкращий бюджет за останні роки.",
                "uk",
            ),
            (
                "O governo anunciou que os preços da eletricidade vão subir amanhã.",
                "pt",
            ),
            (
                "Não acredito que ele disse isso na televisão ontem à noite.",
                "pt",
            ),
            (
                "El govern ha dit que els preus de la llum pujaran demà.",
                "ca",
            ),
            (
                "Il governo ha detto che i prezzi della luce saliranno domani.",
                "it",
            ),
            ("وزیر گفت که قیمت برق از فردا دو برابر می‌شود.", "fa"),
            ("قال الوزير إن أسعار الكهرباء سترتفع غدا.", "ar"),
        ] {
            assert_eq!(detect(text), Some(lang), "{text}");
        }
    }

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
