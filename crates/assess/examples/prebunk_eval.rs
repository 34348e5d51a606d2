//! Prebunk forecasts against the baselines on EUvsDisinfo's cases: given
//! the cases of 2015–2016, which keywords (narratives) come back in 2017.
//!
//! ```text
//! cargo run --release -p pharos-assess --example prebunk_eval -- \
//!     ../shared/data/claims/euvsdisinfo/euvsdisinfo_2015-2017.csv
//! ```
//!
//! Prints the figures of docs/prebunking.md.

use pharos_assess::prebunk::eval::{evaluate, labelled_storylines, labels_between};
use pharos_assess::prebunk::{PrebunkOptions, forecast};
use pharos_core::EventTime;

#[path = "../tests/common/euvsdisinfo.rs"]
mod euvsdisinfo;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data/claims/euvsdisinfo/euvsdisinfo_2015-2017.csv".into());
    let cases = euvsdisinfo::cases(std::path::Path::new(&path));
    let now = EventTime::from_secs(1_483_228_800); // 2017-01-01
    let end = cases.iter().map(|c| c.0).max().unwrap();
    let horizon_days = ((end.0 - now.0) as f64 / 86_400_000.0).ceil() + 1.0;
    let before: Vec<_> = cases.iter().filter(|c| c.0 < now).cloned().collect();
    let truth = labels_between(&cases, now, EventTime(end.0 + 1));
    for quiet in [3.0, 14.0] {
        let opts = PrebunkOptions {
            horizon_days,
            quiet_days: quiet,
            ..Default::default()
        };
        let lines = labelled_storylines(&before, quiet);
        let f = forecast(&lines, now, &opts);
        let e = evaluate(&lines, &f, now, opts.min_chance, &truth);
        println!(
            "{} cases ({} before 2017); horizon {horizon_days} days to {}; outbreaks split at {quiet} quiet days",
            cases.len(),
            before.len(),
            end.day()
        );
        println!(
            "{} keywords seen in 2015-2016, {} came back in 2017",
            e.storylines, e.came_back
        );
        println!("| method | predicted | hits | precision | recall | average precision |");
        println!("|---|---|---|---|---|---|");
        for s in [&e.forecast, &e.most_frequent, &e.most_recent] {
            println!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} |",
                s.method, s.predicted, s.hits, s.precision, s.recall, s.average_precision
            );
        }
        println!();
    }
}
