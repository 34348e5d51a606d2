//! The fact-check library importers (ClaimReview, Fact Check Tools API,
//! EUvsDisinfo, CheckThat!) on any bytes; the first byte picks the format.
//! Import, then open the library and look a claim up: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_claims::library::{ImportFormat, ImportOptions, Library, import};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let format = [
        ImportFormat::ClaimReview,
        ImportFormat::FactcheckApi,
        ImportFormat::Euvsdisinfo,
        ImportFormat::Checkthat,
    ][pick as usize % 4];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input");
    std::fs::write(&file, body).unwrap();
    let lib = dir.path().join("lib");
    let opts = ImportOptions::default();
    if import(&lib, format, &[file], &opts).is_ok() {
        let lib = Library::open_or_create(&lib).unwrap();
        for c in lib.claims() {
            assert!(!c.id.is_empty());
        }
    }
});
