//! What the server's test binaries share: the simulated scenario each one
//! starts from.

use pharos_core::Post;
use std::path::{Path, PathBuf};

/// Writes the simulator's scenario of `n` posts from `seed` into
/// `dir/scenario.jsonl` (its fact-checks beside it, at
/// `pharos_sim::factchecks_path`) and reads the posts back in file order.
pub fn scenario(dir: &Path, n: u64, seed: u64) -> (PathBuf, Vec<Post>) {
    let path = dir.join("scenario.jsonl");
    pharos_sim::write_scenario(&pharos_sim::SimConfig::new(n, seed), &path, &mut |_| {}).unwrap();
    let posts = std::fs::read(&path)
        .unwrap()
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    (path, posts)
}
