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

#[path = "../../../fuzz/props.rs"]
mod props;
use props::{mutated, seeds};

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
