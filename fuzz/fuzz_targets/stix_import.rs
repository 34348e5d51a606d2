//! STIX 2.1 bundle import (`pharos stix import`) on any bytes: an error or a
//! report, never a panic; what it stored reads back.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let mut store = pharos_store::AnyStore::open(dir.path().join("f.db")).unwrap();
    let mut imp = pharos_share::stix::import::Importer::new(&mut store).unwrap();
    let _ = imp.import_bytes(data, "fuzz.json");
    imp.finish().unwrap();
    pharos_share::stix::import::stored_objects(&store, None).unwrap();
});
