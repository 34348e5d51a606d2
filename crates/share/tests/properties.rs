//! Property test (issue 14): STIX 2.1 bundle import (`pharos stix import`)
//! on arbitrary bytes and on mutations of the seed corpus
//! (`fuzz/corpus/stix_import/`), the fuzz target `stix_import` run inside
//! `cargo test`. Whatever the input: an error naming the source, or a
//! report whose objects are each added, updated, unchanged or rejected with
//! a reason; what was stored reads back, and importing the same bytes again
//! adds nothing.

use pharos_share::stix::import::{Importer, stored_objects};
use pharos_store::AnyStore;
use proptest::prelude::*;

#[path = "../../../fuzz/props.rs"]
mod props;
use props::{mutated, seeds};

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = AnyStore::open(dir.path().join("s.db")).unwrap();
    let mut imp = Importer::new(&mut store).unwrap();
    let first = imp.import_bytes(bytes, "fuzz.json");
    match &first {
        Err(e) => prop_assert!(e.to_string().starts_with("fuzz.json: "), "{}", e),
        Ok(r) => {
            prop_assert_eq!(
                r.objects,
                r.added + r.updated + r.unchanged + r.rejected,
                "{:?}",
                r
            );
            prop_assert_eq!(r.rejections.len() as u64, r.rejected);
            prop_assert!(
                r.rejections.iter().all(|x| x.contains(": ")),
                "{:?}",
                r.rejections
            );
        }
    }
    let again = imp.import_bytes(bytes, "fuzz.json");
    if let (Ok(a), Ok(b)) = (&first, &again) {
        prop_assert_eq!(
            b.added + b.updated,
            0,
            "a second import changed something: {:?}",
            b
        );
        prop_assert_eq!(b.unchanged, a.added + a.updated + a.unchanged);
    }
    imp.finish()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let stored = stored_objects(&store, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let kept = first.map(|r| r.added).unwrap_or(0);
    prop_assert!(
        stored.len() as u64 <= kept,
        "{} stored, {} added",
        stored.len(),
        kept
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes)?;
    }
    #[test]
    fn mutated_seeds(bytes in mutated(seeds("stix_import"))) {
        check(&bytes)?;
    }
}

#[test]
fn the_seed_is_imported() {
    for seed in seeds("stix_import") {
        let dir = tempfile::tempdir().unwrap();
        let mut store = AnyStore::open(dir.path().join("s.db")).unwrap();
        let mut imp = Importer::new(&mut store).unwrap();
        let r = imp.import_bytes(&seed, "seed.json").unwrap();
        assert!(r.added > 0, "{r:?}");
        imp.finish().unwrap();
        assert_eq!(stored_objects(&store, None).unwrap().len() as u64, r.added);
    }
}
