//! Importers on the shared data sets (`cargo test -p pharos-claims --features real-data`).
//! Data directory: `$PHAROS_DATA`, else `../shared/data` beside the checkout.
#![cfg(feature = "real-data")]

use pharos_claims::library::{self, ImportFormat, ImportOptions, Library};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    let base = std::env::var_os("PHAROS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let p = base.join(rel);
    assert!(p.is_file(), "missing data file {}", p.display());
    p
}

#[test]
fn euvsdisinfo_3071_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = ImportOptions {
        detect_lang: true,
        ..Default::default()
    };
    let file = data("claims/euvsdisinfo/euvsdisinfo_2015-2017.csv");
    let s = library::import(
        tmp.path(),
        ImportFormat::Euvsdisinfo,
        std::slice::from_ref(&file),
        &opts,
    )
    .unwrap();
    // 3,071 cases; 2 have no summary (their title is the claim); cases with
    // the same normalised claim text are one claim: 2,620 distinct claims,
    // 300 rows repeat a case exactly, 151 add an outlet, source or disproof.
    assert_eq!(s.records, 3071);
    assert_eq!(s.quarantined, 0);
    assert_eq!((s.added, s.merged, s.unchanged), (2620, 151, 300));
    assert_eq!(s.claims, 2620);
    assert_eq!(s.reviews, 2707);
    let lib = Library::open(tmp.path()).unwrap();
    // Summaries are English; detection labels those it is sure of (short
    // ones stay without a language) and never labels one otherwise.
    let en = lib
        .claims()
        .iter()
        .filter(|c| c.lang.as_deref() == Some("en"))
        .count();
    let other = lib
        .claims()
        .iter()
        .filter(|c| c.lang.as_deref().is_some_and(|l| l != "en"))
        .count();
    assert!(en > 2200, "{en} claims labelled English");
    assert_eq!(other, 0);
    assert!(lib.claims().iter().all(|c| {
        c.reviews
            .iter()
            .all(|r| r.publisher.as_deref() == Some("EUvsDisinfo"))
    }));
    // Every case is in the provenance.
    assert_eq!(lib.provenance().len(), 3071);

    let again = library::import(tmp.path(), ImportFormat::Euvsdisinfo, &[file], &opts).unwrap();
    assert!(!again.changed);
    assert_eq!(again.unchanged, 3071);
}

#[test]
fn checkthat_13825_verified_claims() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = ImportOptions {
        default_lang: Some("en".into()),
        detect_lang: false,
    };
    let file = data("claims/checkthat2021/CT2021-Task2A-EN-Verified_Claims.txt");
    let s = library::import(tmp.path(), ImportFormat::Checkthat, &[file], &opts).unwrap();
    assert_eq!((s.records, s.added, s.quarantined), (13825, 13825, 0));
    let lib = Library::open(tmp.path()).unwrap();
    assert_eq!(lib.len(), 13825);
    let c = lib.get("vclaim-sno-10-meter-anaconda").unwrap();
    assert_eq!(
        c.title.as_deref(),
        Some("Does Video Show a 10-Meter-Long Anaconda?")
    );
    assert_eq!(c.lang.as_deref(), Some("en"));
}
