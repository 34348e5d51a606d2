//! Property tests: the fuzz targets of `fuzz/` (issue 14) run inside
//! `cargo test`. For every importer, arbitrary bytes and mutations of the
//! seed corpus (`fuzz/corpus/<format>/`) are read with
//! [`pharos_ingest::check::read_and_check`]: no panic, every rejection has a
//! reason, every post can be stored and read back unchanged and is within
//! the caps. The NDJSON body of `POST /api/ingest` is read by the canonical
//! JSONL reader, so the `jsonl` property covers it.

use pharos_ingest::Format;
use pharos_ingest::check::read_and_check;
use proptest::prelude::*;
use std::path::PathBuf;

fn seeds(dir: &str) -> Vec<Vec<u8>> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(dir);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the seed corpus is part of the repository)",
                d.display()
            )
        })
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{}: no seeds", d.display());
    out
}

/// Pieces that broke readers before, or that sit at their edges.
const TOKENS: &[&str] = &[
    "&amp;",
    "&",
    ";",
    "&#x1F600;",
    "&#99999999;",
    "[",
    "](",
    ")",
    "(",
    "**",
    "__",
    "http://",
    "https://",
    "#",
    "@",
    "\"",
    "\\",
    "\n",
    "\r\n",
    "\t",
    ",",
    "<",
    ">",
    "<script>",
    "</",
    "<![CDATA[",
    "]]>",
    "9000000000000000",
    "5000000000000000000",
    "-62167219200001",
    "253402300800000",
    "+10000-01-01T00:00:00Z",
    "0000-01-01",
    "1e308",
    "null",
    "{}",
    "[]",
    "\u{feff}",
    "\u{0}",
    "é",
    "ё",
    "🚀",
    "\u{202e}",
];

/// A seed with edits: byte flips, cuts, and tokens inserted at random places.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (
        0..n,
        proptest::collection::vec((any::<u16>(), 0..4u8, 0..TOKENS.len(), any::<u8>()), 0..8),
    )
        .prop_map(move |(i, edits)| {
            let mut b = seeds[i].clone();
            for (at, kind, tok, byte) in edits {
                let at = if b.is_empty() {
                    0
                } else {
                    at as usize % (b.len() + 1)
                };
                match kind {
                    0 => b.splice(at..at, TOKENS[tok].bytes()).for_each(drop),
                    1 if at < b.len() => b[at] = byte,
                    2 => b.truncate(at),
                    _ => {
                        let rep = TOKENS[tok].repeat(1 + byte as usize);
                        b.splice(at..at, rep.bytes()).for_each(drop)
                    }
                }
            }
            b
        })
}

fn check(format: Format, source: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    read_and_check(format, source, bytes)
        .map(drop)
        .map_err(TestCaseError::fail)
}

macro_rules! properties {
    ($($name:ident: $format:expr, $source:expr, $dir:expr;)*) => {
        $(
            mod $name {
                use super::*;
                proptest! {
                    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]
                    #[test]
                    fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                        check($format, $source, &bytes)?;
                    }
                    #[test]
                    fn mutated_seeds(bytes in mutated(seeds($dir))) {
                        check($format, $source, &bytes)?;
                    }
                }
                #[test]
                fn seeds_are_read() {
                    for s in seeds($dir) {
                        read_and_check($format, $source, &s).unwrap();
                    }
                }
            }
        )*
    };
}

properties! {
    jsonl: Format::Jsonl, "fuzz.jsonl", "jsonl";
    twitter_v2: Format::TwitterV2, "fuzz.jsonl", "twitter_v2";
    telegram: Format::Telegram, "result.json", "telegram";
    telegram_dump: Format::TelegramDump, "dump.json", "telegram_dump";
    csv: Format::Csv, "fuzz.csv", "csv";
    rss: Format::Rss, "fuzz.xml", "rss";
}
