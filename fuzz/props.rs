//! What the property tests of every importer share (`#[path]`-included by
//! `crates/*/tests/properties.rs`): the seed corpus of `fuzz/corpus/<dir>/`
//! and mutations of it. The fuzz targets in `fuzz/fuzz_targets/` explore
//! the same inputs for hours; these run within `cargo test`.
#![allow(dead_code)]

use proptest::prelude::*;
use std::path::PathBuf;

/// The seed files of `fuzz/corpus/<dir>/`, sorted.
pub fn seeds(dir: &str) -> Vec<Vec<u8>> {
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
pub const TOKENS: &[&str] = &[
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
pub fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
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
