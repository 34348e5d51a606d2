//! Progress bars on standard error, hidden with `--quiet` or when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A spinner that counts items with a rate.
pub fn counter(quiet: bool, what: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {human_pos} {msg} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(what.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

/// A bar over `total` bytes (downloads), with the rate and time left.
pub fn bytes(quiet: bool, total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    if quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}

/// A progress bar as what a load reports to: posts written count on it,
/// notes go to standard error.
pub struct Bar<'a>(pub &'a ProgressBar);

impl pharos_ingest::load::Observer for Bar<'_> {
    fn written(&self, n: u64) {
        self.0.inc(n);
    }

    fn building_indexes(&self) {
        self.0.set_message("posts; building indexes");
    }

    fn note(&self, line: &str) {
        self.0.suspend(|| eprintln!("{line}"));
    }
}
