//! The inauthenticity score on cresci-rtbust-2019 (693 labelled Twitter
//! accounts, profile fields only), with the documented protocol: stratified
//! 5-fold cross-validation, seed 2019, standardisation and logistic weights
//! fitted on the training folds only.
//!
//! Data in `$PHAROS_DATA/bots/` (default `../shared/data` next to the
//! checkout); run with `cargo test -p pharos-analysis --features real-data`.
#![cfg(feature = "real-data")]

use pharos_analysis::actors::eval::{
    Protocol, load_cresci_rtbust, rtbust_paths, run_rtbust_protocol,
};
use std::path::PathBuf;

fn bots_dir() -> PathBuf {
    let data = match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    };
    let dir = data.join("bots");
    let (users, labels) = rtbust_paths(&dir);
    for p in [users, labels] {
        assert!(
            p.exists(),
            "missing {} (set PHAROS_DATA to the shared data directory)",
            p.display()
        );
    }
    dir
}

#[test]
fn actors_rtbust_profile_score_cv_auc_at_least_0_80() {
    let data = load_cresci_rtbust(&bots_dir()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(data.len(), 693, "cresci-rtbust-2019 has 693 labelled users");
    let report = run_rtbust_protocol(&data, Protocol::default());
    eprintln!("{}", report.table());
    let fitted = report.fitted();
    assert!(
        fitted.pooled >= 0.80,
        "pooled CV AUC {:.3} < 0.80\n{}",
        fitted.pooled,
        report.table()
    );
    assert!(report.held_out.iter().all(|s| s.is_finite()));
}
