//! The cresci-rtbust-2019 evaluation of the profile-only inauthenticity score.
//!
//! ```text
//! cargo run --release -p pharos-analysis --example bots_eval [-- DATA_DIR]
//! ```
//!
//! DATA_DIR (default `$PHAROS_DATA`, else `../shared/data` next to the
//! checkout) holds `bots/cresci-rtbust-2019_users.json.gz` and
//! `bots/cresci-rtbust-2019_labels.tsv`. Prints the AUC table of the
//! protocol (stratified 5-fold CV, seed 2019; fitting on training folds
//! only), the same with 10 folds, the mean weights fitted across folds, and
//! one explained example.

use pharos_analysis::actors::ProfileModel;
use pharos_analysis::actors::eval::{
    Protocol, load_cresci_rtbust, run_rtbust_protocol, stratified_folds,
};
use std::path::PathBuf;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("PHAROS_DATA").map(PathBuf::from))
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let data = match load_cresci_rtbust(&dir.join("bots")) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let report = run_rtbust_protocol(&data, Protocol::default());
    println!("{}", report.table());
    let ten = run_rtbust_protocol(
        &data,
        Protocol {
            k: 10,
            ..Protocol::default()
        },
    );
    println!("{}", ten.table());

    // Mean fitted weight of each term across the 5 training splits.
    let model = ProfileModel::default_model();
    println!(
        "| term | default weight | mean fitted weight (5 splits) | range |\n|---|---|---|---|"
    );
    for (j, t) in model.model.terms.iter().enumerate() {
        let w: Vec<f64> = report.fits.iter().map(|f| f.weights[j]).collect();
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let lo = w.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "| {} | {:+.2} | {:+.2} | {:+.2} … {:+.2} |",
            t.name, t.weight, mean, lo, hi
        );
    }

    // One explained example: the held-out account with the highest
    // fitted score, explained by the model fitted without it and by the
    // default weights.
    let (i, _) = report
        .held_out
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("accounts");
    let labels: Vec<bool> = data.iter().map(|a| a.bot).collect();
    let folds = stratified_folds(&labels, report.protocol.k, report.protocol.seed);
    let fitted = model.model.refitted(&report.fits[folds[i]]);
    let label = if data[i].bot { "bot" } else { "human" };
    println!(
        "\nExample, account {} (labelled {label}), fitted model (held out):\n{}",
        data[i].id,
        fitted.score(&data[i].profile.values()).summary(5)
    );
    println!(
        "\nSame account, default weights:\n{}",
        model.score(&data[i].profile).summary(5)
    );
}
