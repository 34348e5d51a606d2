//! How well narratives recover known groups (stories, threads, campaigns):
//! pairwise precision, recall and F1, purity and completeness. For
//! evaluations (docs/narratives.md), not for the engine.

use std::collections::HashMap;

/// Narratives against true groups, over the posts that have a group.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClusterScore {
    /// Posts scored.
    pub posts: usize,
    /// Of the pairs of posts in one narrative, the share in one true group.
    pub pair_precision: f64,
    /// Of the pairs of posts in one true group, the share in one narrative.
    pub pair_recall: f64,
    pub pair_f1: f64,
    /// Posts in their narrative's majority group, over the posts in
    /// narratives of at least two scored posts.
    pub purity: f64,
    /// Per true group of at least two posts, the share of its posts in its
    /// largest narrative, averaged over the groups.
    pub completeness: f64,
    /// True groups of at least two posts, and those wholly in one narrative.
    pub groups: usize,
    pub whole_groups: usize,
}

/// Scores `narrative[i]` (`None`: in no narrative, alone) against
/// `group[i]` (`None`: not scored) for each post `i`.
pub fn clustering(group: &[Option<u64>], narrative: &[Option<u64>]) -> ClusterScore {
    let mut by_group: HashMap<u64, Vec<Option<u64>>> = HashMap::new();
    let mut by_narrative: HashMap<u64, HashMap<u64, u64>> = HashMap::new();
    let mut posts = 0;
    for (g, n) in group.iter().zip(narrative) {
        let Some(g) = *g else { continue };
        posts += 1;
        by_group.entry(g).or_default().push(*n);
        if let Some(n) = *n {
            *by_narrative.entry(n).or_default().entry(g).or_default() += 1;
        }
    }
    let pairs = |k: u64| k * k.saturating_sub(1) / 2;
    let (mut same_both, mut same_narrative, mut same_group) = (0u64, 0u64, 0u64);
    let (mut pure, mut in_shared) = (0u64, 0u64);
    for groups in by_narrative.values() {
        let size: u64 = groups.values().sum();
        same_narrative += pairs(size);
        same_both += groups.values().map(|&k| pairs(k)).sum::<u64>();
        if size >= 2 {
            in_shared += size;
            pure += groups.values().max().copied().unwrap_or(0);
        }
    }
    let (mut completeness, mut groups, mut whole) = (0.0, 0usize, 0usize);
    for members in by_group.values() {
        let k = members.len() as u64;
        same_group += pairs(k);
        if k < 2 {
            continue;
        }
        groups += 1;
        let mut counts: HashMap<u64, u64> = HashMap::new();
        for n in members.iter().flatten() {
            *counts.entry(*n).or_default() += 1;
        }
        let largest = counts.values().max().copied().unwrap_or(0).max(1);
        completeness += largest as f64 / k as f64;
        if largest == k {
            whole += 1;
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let p = ratio(same_both, same_narrative);
    let r = ratio(same_both, same_group);
    ClusterScore {
        posts,
        pair_precision: p,
        pair_recall: r,
        pair_f1: if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
        purity: ratio(pure, in_shared),
        completeness: if groups == 0 {
            0.0
        } else {
            completeness / groups as f64
        },
        groups,
        whole_groups: whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_split_and_merged_clusterings() {
        let g = [Some(1), Some(1), Some(2), Some(2), None];
        let perfect = clustering(&g, &[Some(7), Some(7), Some(8), Some(8), Some(7)]);
        assert_eq!(perfect.posts, 4);
        assert_eq!((perfect.pair_precision, perfect.pair_recall), (1.0, 1.0));
        assert_eq!((perfect.purity, perfect.completeness), (1.0, 1.0));
        assert_eq!((perfect.groups, perfect.whole_groups), (2, 2));
        // Everything in one narrative: every pair found, a third right.
        let merged = clustering(&g, &[Some(1); 5]);
        assert_eq!(merged.pair_recall, 1.0);
        assert!((merged.pair_precision - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(merged.purity, 0.5);
        // Every post alone: nothing found, nothing wrong.
        let alone = clustering(&g, &[None, Some(2), None, Some(4), None]);
        assert_eq!((alone.pair_recall, alone.pair_f1), (0.0, 0.0));
        assert_eq!(alone.completeness, 0.5);
        assert_eq!(alone.whole_groups, 0);
    }
}
