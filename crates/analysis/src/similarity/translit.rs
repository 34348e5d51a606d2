//! Matching across scripts and spellings: Unicode NFKC, case folding,
//! Cyrillic → Latin transliteration, fuzzy keys for names, and language
//! identification.
//!
//! The same person or place is written `Зеленский` (Russian),
//! `Зеленський` (Ukrainian), `Zelensky` and `Zelenskyy` (English press).
//! Matching them takes three steps, each a pure function:
//!
//! 1. [`fold`]: NFKC (full-width letters, ligatures and compatibility forms
//!    become their plain equivalents) and case folding (`to_lowercase`, plus
//!    `ß → ss` and final `ς → σ`, the two foldings lowercase misses).
//! 2. [`transliterate`]: Russian and Ukrainian letters to Latin with one
//!    table for both languages (`ж → zh`, `щ → shch`, `ї → i`, `ь` and `ъ`
//!    dropped, ...). Other characters pass through.
//! 3. [`match_key`]: a deliberately lossy key of one word in which the usual
//!    spelling variants of transliterated names coincide: `y`, `j` → `i`,
//!    `w` → `v`, `kh` → `h`, `ck` → `k`, `x` → `ks`, diacritics dropped
//!    (`é → e`, `ł → l`), doubled letters collapsed. So
//!    `zelenskiy`, `zelenskyi`, `zelensky`, `zelenskyy` all give `zelenski`.
//!
//! What it does not do: translate. `Москва` meets `Moskva`, not `Moscow`;
//! `Киев` meets `Kiev`, while `Київ` meets `Kyiv`; `электричество` and
//! `electricity` do not meet. Names and loanwords meet across Russian,
//! Ukrainian and Latin-script text; common vocabulary does not (that needs
//! a multilingual embedding model, see `crate::narratives`).
//!
//! [`detect_language`] is `pharos_core::lang::detect` (whatlang's trigram
//! models, ISO 639-1 codes), as the ingest normaliser uses it.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// NFKC and case folding. ASCII text is only lowercased (it is already
/// NFKC), so the common case costs one pass.
///
/// ```
/// use pharos_analysis::similarity::translit::fold;
/// assert_eq!(fold("ＺＥＬＥＮＳＫＹ ﬁle Straße ΟΔΟΣ"), "zelensky file strasse οδοσ");
/// ```
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let lower = if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.to_lowercase()
    } else {
        text.nfkc().collect::<String>().to_lowercase()
    };
    if lower.contains(['ß', 'ς', 'ẞ']) {
        lower.replace(['ß', 'ẞ'], "ss").replace('ς', "σ")
    } else {
        lower
    }
}

/// Latin for one lowercase Russian or Ukrainian letter; `None` for other
/// characters. One table for both languages: `и` is `i` (Russian) and `y`
/// (Ukrainian) in the official systems, and [`match_key`] maps both to `i`
/// anyway, so the table uses `i`; `г` is `g` (Ukrainian `h` would keep
/// `Гарри`/`Harry` apart but split `Гамбург`/`Hamburg` less often than it
/// splits Russian names; `g` serves both languages' news vocabulary).
pub fn cyrillic_to_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "e",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'і' => "i",
        'ї' => "yi",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "",
        'ы' => "y",
        'ь' => "",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        '\u{2bc}' | '\u{2019}' => "", // Ukrainian apostrophe (м'ясо)
        _ => return None,
    })
}

/// Transliterates Cyrillic letters (lowercase; call it on [`fold`]ed
/// text) to Latin; everything else is kept as it is.
///
/// ```
/// use pharos_analysis::similarity::translit::transliterate;
/// assert_eq!(transliterate("зеленский и щука"), "zelenskiy i shchuka");
/// assert_eq!(transliterate("київ"), "kiyiv");
/// ```
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match cyrillic_to_latin(c) {
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    out
}

/// Latin letters with diacritics (precomposed, as NFKC leaves them) to
/// their base letter; `None` when the character has none.
fn strip_diacritic(c: char) -> Option<char> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' | 'ĺ' | 'ļ' => 'l',
        'ñ' | 'ń' | 'ň' | 'ņ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        _ => return None,
    })
}

/// The fuzzy matching key of one word (already [`fold`]ed): transliterated,
/// diacritics dropped, then `y`/`j` → `i`, `w` → `v`, `kh` → `h`,
/// `ck` → `k`, `x` → `ks`, and runs of one letter collapsed. Words of
/// other scripts (Greek, Arabic, ...) keep their letters and only lose
/// doubled ones.
///
/// ```
/// use pharos_analysis::similarity::translit::match_key;
/// for w in ["зеленский", "зеленський", "zelensky", "zelenskyy", "zelenskiy"] {
///     assert_eq!(match_key(w), "zelenski");
/// }
/// assert_eq!(match_key("навальный"), match_key("navalny"));
/// assert_ne!(match_key("moscow"), match_key("москва"));
/// ```
pub fn match_key(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 4);
    match_key_into(word, &mut out);
    out
}

/// [`match_key`] appended to `out` (no allocation when `out` has room).
pub fn match_key_into(word: &str, out: &mut String) {
    let mut keyer = Keyer {
        out,
        last: None,
        pending: None,
    };
    for c in word.chars() {
        if let Some(s) = cyrillic_to_latin(c) {
            s.chars().for_each(|l| keyer.feed(l));
        } else if let Some(b) = strip_diacritic(c) {
            keyer.feed(b);
        } else {
            keyer.feed(c);
        }
    }
    keyer.finish();
}

/// The letter rules of [`match_key`] as a one-pass machine: `pending`
/// holds a `k` or `c` until the next letter says whether it starts `kh`
/// or `ck`.
struct Keyer<'a> {
    out: &'a mut String,
    last: Option<char>,
    pending: Option<char>,
}

impl Keyer<'_> {
    fn emit(&mut self, c: char) {
        if self.last != Some(c) {
            self.out.push(c);
        }
        self.last = Some(c);
    }

    fn feed(&mut self, c: char) {
        match (self.pending.take(), c) {
            (Some('k'), 'h') => return self.emit('h'),
            (Some('c'), 'k') => return self.emit('k'),
            (Some(p), _) => self.emit(p),
            (None, _) => {}
        }
        match c {
            'k' | 'c' => self.pending = Some(c),
            'y' | 'j' => self.emit('i'),
            'w' => self.emit('v'),
            'x' => {
                self.emit('k');
                self.emit('s');
            }
            _ => self.emit(c),
        }
    }

    fn finish(&mut self) {
        if let Some(p) = self.pending.take() {
            self.emit(p);
        }
    }
}

/// Language of `text` as an ISO 639-1 code: the one detector of Pharos,
/// [`pharos_core::lang::detect`] (the rule of the ingest normaliser, so a
/// post's language means the same whether it came with the post or not).
pub use pharos_core::lang::detect as detect_language;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_meet_across_scripts_and_spellings() {
        let key = |w: &str| match_key(&fold(w));
        let z = key("Зеленский");
        for w in [
            "Зеленський",
            "Zelensky",
            "Zelenskyy",
            "ZELENSKIY",
            "Zelenskij",
        ] {
            assert_eq!(key(w), z, "{w}");
        }
        assert_eq!(key("Навальный"), key("Navalny"));
        assert_eq!(key("Путин"), key("Putin"));
        assert_eq!(key("Київ"), key("Kyiv"));
        assert_eq!(key("Киев"), key("Kiev"));
        assert_eq!(key("Харків"), key("Kharkiv"));
        assert_eq!(key("Łódź"), key("Lodz"));
        assert_ne!(key("Москва"), key("Moscow"));
        assert_ne!(key("Зеленский"), key("Zelenograd"));
    }

    #[test]
    fn nfkc_and_folding() {
        assert_eq!(fold("Ｐｕｔｉｎ"), "putin");
        assert_eq!(fold("ﬁnal"), "final");
        assert_eq!(fold("①"), "1");
        assert_eq!(fold("STRASSE Straße"), "strasse strasse");
        assert_eq!(fold("ΣΟΦΟΣ"), "σοφοσ");
        assert_eq!(fold("ЗЕЛЕНСКИЙ"), "зеленский");
        // Decomposed é (e + U+0301) becomes the precomposed letter.
        assert_eq!(fold("Cafe\u{301}"), "café");
    }

    #[test]
    fn transliteration_covers_both_alphabets() {
        let ru = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя";
        let uk = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя";
        for c in ru.chars().chain(uk.chars()) {
            assert!(cyrillic_to_latin(c).is_some(), "{c}");
        }
        assert!(transliterate(ru).is_ascii());
        assert!(transliterate(uk).is_ascii());
        assert_eq!(transliterate("щи — 3 €"), "shchi — 3 €");
    }

    #[test]
    fn languages() {
        let cases = [
            (
                "en",
                "The government will ration household electricity from next month",
            ),
            (
                "ru",
                "Правительство с будущего месяца ограничит подачу электричества",
            ),
            (
                "uk",
                "Уряд з наступного місяця обмежить постачання електроенергії в будинки",
            ),
            (
                "de",
                "Die Regierung wird den Strom für Haushalte ab nächsten Monat rationieren",
            ),
            (
                "fr",
                "Le gouvernement va rationner l'électricité des ménages dès le mois prochain",
            ),
            (
                "pl",
                "Rząd od przyszłego miesiąca ograniczy dostawy prądu do gospodarstw domowych",
            ),
            (
                "ar",
                "ستقوم الحكومة بتقنين الكهرباء المنزلية اعتبارا من الشهر المقبل",
            ),
            (
                "es",
                "El gobierno racionará la electricidad de los hogares a partir del próximo mes",
            ),
            (
                "it",
                "Il governo razionerà l'elettricità delle famiglie a partire dal mese prossimo",
            ),
        ];
        for (want, text) in cases {
            assert_eq!(detect_language(text), Some(want), "{text}");
        }
        assert_eq!(detect_language("@bob https://x.y #tag"), None);
    }
}
