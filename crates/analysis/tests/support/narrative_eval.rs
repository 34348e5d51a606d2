//! The measures of issue 19 on real posts, shared by the real-data tests
//! (`tests/real_data_narratives.rs`) and the `narratives_real` example:
//! the largest narratives (title, label, channels, whether boilerplate
//! defines them) and families and narratives per channel.
//!
//! A word is a channel's *signature word* when it is in at least 40 % of
//! that channel's posts (function words excepted). A narrative is *defined
//! by boilerplate* when at least 60 % of its posts come from one channel
//! and either two of its label's first three terms, or most of its title's
//! content words, are that channel's signature words.

#![allow(dead_code)]

use pharos_analysis::narratives::{Assignment, NarrativeSummary, is_stopword};
use pharos_core::Post;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Lower-cased words of two or more letters or digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase())
        .collect()
}

/// Lower-cased content words (no function words, no bare numbers).
pub fn content_words(text: &str) -> HashSet<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stopword(w) && !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// The channel of a post: its display name, else its account id.
pub fn channel(p: &Post) -> String {
    p.actor.name.clone().unwrap_or_else(|| p.actor.id.clone())
}

/// One of the largest narratives.
#[derive(Debug)]
pub struct TopRow {
    pub rank: usize,
    pub posts: u64,
    pub channels: usize,
    pub title: String,
    pub label: String,
    /// `Some((channel, posts of it))` when boilerplate defines it.
    pub boilerplate: Option<(String, usize)>,
    /// Label terms (of the six) that are signature words of its main channel.
    pub signature_terms: Vec<String>,
}

/// Per channel: posts, narratives, posts in narratives of ≥ 2 posts,
/// families of ≥ 2 posts, its largest narrative's share, posts in none.
#[derive(Debug, Default, Clone)]
pub struct ChannelRow {
    pub channel: String,
    pub posts: usize,
    pub narratives: usize,
    pub in_multi: usize,
    pub families: usize,
    pub largest: usize,
    pub none: usize,
}

pub struct Signatures {
    words: HashMap<String, HashSet<String>>,
}

impl Signatures {
    pub fn new(posts: &[Post]) -> Signatures {
        let mut per: HashMap<String, HashMap<String, usize>> = HashMap::new();
        let mut n: HashMap<String, usize> = HashMap::new();
        for p in posts {
            let c = channel(p);
            *n.entry(c.clone()).or_default() += 1;
            let m = per.entry(c).or_default();
            for w in content_words(&p.text) {
                *m.entry(w).or_default() += 1;
            }
        }
        let words = per
            .into_iter()
            .map(|(c, m)| {
                let total = n[&c] as f64;
                let sig = m
                    .into_iter()
                    .filter(|(_, k)| *k as f64 >= 0.4 * total)
                    .map(|(w, _)| w)
                    .collect();
                (c, sig)
            })
            .collect();
        Signatures { words }
    }

    pub fn is_signature(&self, channel: &str, word: &str) -> bool {
        self.words
            .get(channel)
            .is_some_and(|s| s.contains(&word.to_lowercase()))
    }
}

/// The `top` largest narratives of `list` with the boilerplate verdict.
pub fn top_narratives(
    posts: &[Post],
    got: &[Assignment],
    list: &[NarrativeSummary],
    top: usize,
) -> Vec<TopRow> {
    let sig = Signatures::new(posts);
    let mut members: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, a) in got.iter().enumerate() {
        if let Some(n) = a.narrative {
            members.entry(n).or_default().push(i);
        }
    }
    list.iter()
        .take(top)
        .enumerate()
        .map(|(rank, n)| {
            let idx = members.get(&n.id).cloned().unwrap_or_default();
            let mut by: HashMap<String, usize> = HashMap::new();
            for &i in &idx {
                *by.entry(channel(&posts[i])).or_default() += 1;
            }
            let (main, main_n) = by
                .iter()
                .max_by_key(|x| (*x.1, x.0.clone()))
                .map(|(c, k)| (c.clone(), *k))
                .unwrap_or_default();
            let label_sig = n
                .label
                .terms
                .iter()
                .take(3)
                .filter(|t| sig.is_signature(&main, &t.term))
                .count();
            let title_words = content_words(&n.title);
            let title_sig = title_words
                .iter()
                .filter(|w| sig.is_signature(&main, w))
                .count();
            let one_channel = main_n as f64 >= 0.6 * idx.len().max(1) as f64;
            let defined = one_channel
                && (label_sig >= 2 || (2 * title_sig > title_words.len() && title_sig > 0));
            let signature_terms = n
                .label
                .terms
                .iter()
                .filter(|t| sig.is_signature(&main, &t.term))
                .map(|t| t.term.clone())
                .collect();
            TopRow {
                signature_terms,
                rank: rank + 1,
                posts: n.posts,
                channels: by.len(),
                title: n.title.clone(),
                label: n.label.text.clone(),
                boilerplate: defined.then_some((main, main_n)),
            }
        })
        .collect()
}

/// Families and narratives per channel (by channel name).
pub fn per_channel(posts: &[Post], got: &[Assignment]) -> Vec<ChannelRow> {
    let mut fam_size: HashMap<u64, usize> = HashMap::new();
    let mut nar_size: HashMap<u64, usize> = HashMap::new();
    for a in got {
        if let Some(f) = a.family {
            *fam_size.entry(f).or_default() += 1;
        }
        if let Some(n) = a.narrative {
            *nar_size.entry(n).or_default() += 1;
        }
    }
    let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in posts.iter().enumerate() {
        by.entry(channel(p)).or_default().push(i);
    }
    by.into_iter()
        .map(|(c, mine)| {
            let nars: HashSet<u64> = mine.iter().filter_map(|&i| got[i].narrative).collect();
            let in_multi = mine
                .iter()
                .filter(|&&i| got[i].narrative.is_some_and(|n| nar_size[&n] >= 2))
                .count();
            let families = mine
                .iter()
                .filter_map(|&i| got[i].family)
                .filter(|f| fam_size[f] >= 2)
                .collect::<HashSet<_>>()
                .len();
            let mut per_nar: HashMap<u64, usize> = HashMap::new();
            for &i in &mine {
                if let Some(n) = got[i].narrative {
                    *per_nar.entry(n).or_default() += 1;
                }
            }
            ChannelRow {
                channel: c,
                posts: mine.len(),
                narratives: nars.len(),
                in_multi,
                families,
                largest: per_nar.values().copied().max().unwrap_or(0),
                none: mine.iter().filter(|&&i| got[i].narrative.is_none()).count(),
            }
        })
        .collect()
}

/// Markdown table of the largest narratives.
pub fn print_top(rows: &[TopRow]) {
    println!(
        "| # | posts | channels | title | label | defined by boilerplate | signature words in label |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.rank,
            r.posts,
            r.channels,
            r.title.replace('|', "/"),
            r.label,
            match &r.boilerplate {
                Some((c, n)) => format!("yes ({c}: {n})"),
                None => "no".into(),
            },
            r.signature_terms.join(", ")
        );
    }
}

/// Markdown table of families and narratives per channel, before (without
/// boilerplate learning) and after.
pub fn print_channels(before: &[ChannelRow], after: &[ChannelRow]) {
    println!(
        "| channel | posts | narratives (before → after) | in narratives of ≥ 2 posts | families of ≥ 2 posts | largest narrative | no narrative |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut tb = ChannelRow::default();
    let mut ta = ChannelRow::default();
    for (b, a) in before.iter().zip(after) {
        println!(
            "| {} | {} | {} → {} | {} → {} | {} → {} | {} → {} | {} → {} |",
            a.channel,
            a.posts,
            b.narratives,
            a.narratives,
            b.in_multi,
            a.in_multi,
            b.families,
            a.families,
            b.largest,
            a.largest,
            b.none,
            a.none
        );
        for (t, r) in [(&mut tb, b), (&mut ta, a)] {
            t.posts += r.posts;
            t.narratives += r.narratives;
            t.in_multi += r.in_multi;
            t.families += r.families;
            t.none += r.none;
        }
    }
    println!(
        "| all | {} | {} → {} | {} → {} | {} → {} | | {} → {} |",
        ta.posts,
        tb.narratives,
        ta.narratives,
        tb.in_multi,
        ta.in_multi,
        tb.families,
        ta.families,
        tb.none,
        ta.none
    );
}
