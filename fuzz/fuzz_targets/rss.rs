//! The rss importer on any bytes: see `pharos_ingest::check`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_ingest::Format;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = pharos_ingest::check::read_and_check(Format::Rss, "fuzz.xml", data) {
        panic!("{e}");
    }
});
