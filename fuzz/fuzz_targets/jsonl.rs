//! The canonical JSONL importer (also the NDJSON body of `POST /api/ingest`) on any bytes: see `pharos_ingest::check`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_ingest::Format;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = pharos_ingest::check::read_and_check(Format::Jsonl, "fuzz.jsonl", data) {
        panic!("{e}");
    }
});
