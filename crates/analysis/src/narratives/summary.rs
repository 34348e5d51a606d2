//! Bounded per-narrative statistics (top-k sketches, an hourly timeline)
//! and the serialisable [`NarrativeSummary`].

use pharos_core::EventTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Top-k counting with bounded memory (the space-saving algorithm of
/// Metwally, Agrawal and El Abbadi): at most `cap` keys are tracked; a new
/// key replaces the one with the smallest count (the first such in
/// insertion order) and inherits that count as its possible over-estimate
/// (`error`). Every key whose true count exceeds `total / cap` is
/// guaranteed to be tracked.
///
/// Kept as columns: the look-up of a key scans only its hashes (a
/// narrative counts every term of every post in a 48-entry sketch), the
/// search for the smallest only the counts, and a replaced entry's key
/// string is reused rather than freed and allocated again.
#[derive(Clone, Debug)]
pub(crate) struct TopK {
    cap: u16,
    hashes: Vec<u64>,
    counts: Vec<u32>,
    errors: Vec<u32>,
    keys: Vec<String>,
}

/// One entry of a [`TopK`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct TopEntry<'a> {
    pub hash: u64,
    pub key: &'a str,
    pub count: u32,
    pub error: u32,
}

impl TopK {
    pub fn new(cap: usize) -> TopK {
        TopK {
            cap: cap.min(u16::MAX as usize) as u16,
            hashes: Vec::new(),
            counts: Vec::new(),
            errors: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Counts one occurrence of `key` (hashed as `hash`).
    pub fn add(&mut self, hash: u64, key: &str) {
        self.add_with(hash, 1, |s| s.push_str(key));
    }

    /// Counts `n` occurrences of the key hashed as `hash`; `key` writes the
    /// key (into an empty string) when it is not tracked yet.
    pub fn add_with(&mut self, hash: u64, n: u32, key: impl FnOnce(&mut String)) {
        if let Some(i) = self.position(hash) {
            self.counts[i] += n;
            return;
        }
        if self.hashes.len() < self.cap as usize {
            let mut s = String::new();
            key(&mut s);
            self.hashes.push(hash);
            self.counts.push(n);
            self.errors.push(0);
            self.keys.push(s);
            return;
        }
        let Some(&floor) = self.counts.iter().min() else {
            return;
        };
        let i = self
            .counts
            .iter()
            .position(|&c| c == floor)
            .expect("the minimum is there");
        self.hashes[i] = hash;
        self.counts[i] = floor + n;
        self.errors[i] = floor;
        self.keys[i].clear();
        key(&mut self.keys[i]);
    }

    /// Where `hash` is tracked: four hashes compared at a time, without a
    /// branch between them.
    #[inline]
    fn position(&self, hash: u64) -> Option<usize> {
        let mut quads = self.hashes.chunks_exact(4);
        for (q, h) in (&mut quads).enumerate() {
            let m = u8::from(h[0] == hash)
                | u8::from(h[1] == hash) << 1
                | u8::from(h[2] == hash) << 2
                | u8::from(h[3] == hash) << 3;
            if m != 0 {
                return Some(4 * q + m.trailing_zeros() as usize);
            }
        }
        let rest = quads.remainder();
        rest.iter()
            .position(|&h| h == hash)
            .map(|i| self.hashes.len() - rest.len() + i)
    }

    /// The entries, in insertion order (a replacement takes the replaced
    /// entry's place).
    pub fn entries(&self) -> impl ExactSizeIterator<Item = TopEntry<'_>> {
        (0..self.hashes.len()).map(|i| TopEntry {
            hash: self.hashes[i],
            key: &self.keys[i],
            count: self.counts[i],
            error: self.errors[i],
        })
    }

    /// The `k` largest, count descending then key.
    pub fn top(&self, k: usize) -> Vec<Counted> {
        let mut v: Vec<TopEntry> = self.entries().collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(b.key)));
        v.into_iter()
            .take(k)
            .map(|e| Counted {
                key: e.key.to_string(),
                posts: u64::from(e.count),
                error: u64::from(e.error),
            })
            .collect()
    }
}

/// Posts per hour for one platform and language, the last
/// `horizon_hours` hours only (older hours are dropped as time moves on;
/// the series' `total` keeps counting).
#[derive(Clone, Debug)]
pub(crate) struct Series {
    pub platform: Box<str>,
    pub lang: Box<str>,
    pub total: u64,
    /// `(hour since the epoch, posts)`, hours ascending, only hours with posts.
    pub bins: VecDeque<(i64, u32)>,
}

impl Series {
    pub fn add(&mut self, hour: i64, horizon_hours: i64) {
        self.total += 1;
        match self.bins.binary_search_by_key(&hour, |b| b.0) {
            Ok(i) => self.bins[i].1 += 1,
            Err(i) => self.bins.insert(i, (hour, 1)),
        }
        let newest = self.bins.back().map_or(hour, |b| b.0);
        while self
            .bins
            .front()
            .is_some_and(|b| b.0 <= newest - horizon_hours)
        {
            self.bins.pop_front();
        }
    }

    /// Posts in hours `[from, to)`.
    pub fn count(&self, from: i64, to: i64) -> u64 {
        self.bins
            .iter()
            .filter(|b| b.0 >= from && b.0 < to)
            .map(|b| u64::from(b.1))
            .sum()
    }
}

/// A key with its count (top-k lists of actors, links, domains, hashtags,
/// networks, terms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counted {
    pub key: String,
    pub posts: u64,
    /// Possible over-count of `posts` (space-saving sketch); 0 when exact.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub error: u64,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// One label term.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelTerm {
    /// The word as first seen (folded), or the URL.
    pub term: String,
    /// Share of the narrative's posts that contain it.
    pub share: f64,
    /// How distinctive it is: `share · ln(share / background share)`.
    pub score: f64,
}

/// The post that best stands for a narrative.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepresentativePost {
    pub platform: String,
    pub id: String,
    pub actor: String,
    pub time: EventTime,
    /// At most 500 characters.
    pub text: String,
}

/// What a narrative is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NarrativeLabel {
    /// Its most telling terms, most distinctive first.
    pub terms: Vec<LabelTerm>,
    /// The terms joined by ` · `, for one-line displays.
    pub text: String,
    pub representative: Option<RepresentativePost>,
}

/// One hourly series of a narrative's volume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineSeries {
    pub platform: String,
    /// ISO 639-1 code, `und` when unknown.
    pub lang: String,
    /// Posts in the series over the narrative's whole life.
    pub total: u64,
    /// Hours with posts in the requested range (within the timeline horizon).
    pub bins: Vec<TimelineBin>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineBin {
    /// Start of the hour (UTC).
    pub hour: EventTime,
    pub posts: u64,
}

/// A narrative in one language: how many of its posts are in it, and a
/// title and label from those posts alone (in that language).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LanguageView {
    /// ISO 639-1 code, `und` when unknown.
    pub lang: String,
    /// Posts in this language over the narrative's life.
    pub posts: u64,
    /// A headline from the language's most representative post (empty for
    /// a language beyond the first twelve a narrative saw).
    pub title: String,
    /// Its most telling terms in this language, joined by ` · `.
    pub label: String,
}

/// A near-duplicate family inside a narrative.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyCount {
    pub id: u64,
    pub posts: u64,
}

/// Everything Pharos says about one narrative; serialised as one object of
/// the `pharos narratives --json` array (see `docs/narratives.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NarrativeSummary {
    pub id: u64,
    /// A short headline from its representative post (the central
    /// sentence, without boilerplate, links, hashtags, mentions), in the
    /// post's language; the label's terms are the secondary label.
    #[serde(default)]
    pub title: String,
    pub label: NarrativeLabel,
    /// More of its telling terms than the label shows, with their scores,
    /// most telling first: what links its episodes across time
    /// (prebunking). Kept in memory only.
    #[serde(skip)]
    pub profile: Vec<(String, f64)>,
    pub first_seen: EventTime,
    pub last_seen: EventTime,
    /// `live` while the engine still assigns posts to it, `expired` after.
    pub status: String,
    /// Posts in the requested range (hour bins within the timeline horizon).
    pub posts: u64,
    /// Posts over the narrative's whole life.
    pub total_posts: u64,
    /// Posts in the last growth window of the range, and in the window before.
    pub recent_posts: u64,
    pub previous_posts: u64,
    /// `(recent_posts + 1) / (previous_posts + 1)`.
    pub growth: f64,
    /// The sort key: `posts + max(0, recent_posts − previous_posts)`.
    pub priority: f64,
    /// Distinct near-duplicate families (over its life).
    pub families: u64,
    pub top_families: Vec<FamilyCount>,
    pub platforms: BTreeMap<String, u64>,
    pub languages: BTreeMap<String, u64>,
    /// Per language, most posts first: posts, and a title and label in
    /// that language (a story told in several languages is one narrative).
    #[serde(default)]
    pub by_language: Vec<LanguageView>,
    pub timeline: Vec<TimelineSeries>,
    pub actors: Vec<Counted>,
    pub links: Vec<Counted>,
    pub domains: Vec<Counted>,
    pub hashtags: Vec<Counted>,
    /// Coordination networks that pushed it (ids given by the caller).
    pub networks: Vec<Counted>,
}

impl NarrativeSummary {
    /// What to call the narrative: its title, else (no sentence with two
    /// content words) its label's terms.
    pub fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            &self.label.text
        } else {
            &self.title
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `TopK` as it was before it was kept as columns (a vector of
    /// entries, a boxed key allocated at each replacement).
    #[derive(Clone, Debug)]
    struct RefTopK {
        cap: u16,
        entries: Vec<RefEntry>,
    }

    #[derive(Clone, Debug)]
    struct RefEntry {
        pub hash: u64,
        pub key: Box<str>,
        pub count: u32,
        pub error: u32,
    }

    impl RefTopK {
        pub fn new(cap: usize) -> RefTopK {
            RefTopK {
                cap: cap.min(u16::MAX as usize) as u16,
                entries: Vec::new(),
            }
        }

        pub fn add_n(&mut self, hash: u64, n: u32, key: impl FnOnce() -> Box<str>) {
            if let Some(e) = self.entries.iter_mut().find(|e| e.hash == hash) {
                e.count += n;
                return;
            }
            if self.entries.len() < self.cap as usize {
                self.entries.push(RefEntry {
                    hash,
                    key: key(),
                    count: n,
                    error: 0,
                });
                return;
            }
            if let Some(min) = self.entries.iter_mut().min_by_key(|e| e.count) {
                let floor = min.count;
                *min = RefEntry {
                    hash,
                    key: key(),
                    count: floor + n,
                    error: floor,
                };
            }
        }
    }

    #[test]
    fn column_sketch_counts_as_the_entry_sketch_did() {
        // Skewed streams of keys (a few heavy, many rare, so entries are
        // replaced all the time, with ties on the smallest count).
        for (cap, seed) in [(1usize, 1u64), (4, 2), (16, 3), (48, 4), (48, 5), (7, 6)] {
            let mut t = TopK::new(cap);
            let mut r = RefTopK::new(cap);
            let mut x = seed;
            for step in 0..20_000u32 {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let draw = (x >> 33) % 1000;
                let key = if draw < 300 {
                    draw % 5
                } else {
                    draw * draw % 997
                };
                let n = 1 + (step % 3);
                let name = format!("k{key}");
                t.add_with(key, n, |s| s.push_str(&name));
                r.add_n(key, n, || name.clone().into());
                let got: Vec<(u64, &str, u32, u32)> = t
                    .entries()
                    .map(|e| (e.hash, e.key, e.count, e.error))
                    .collect();
                let want: Vec<(u64, &str, u32, u32)> = r
                    .entries
                    .iter()
                    .map(|e| (e.hash, &*e.key, e.count, e.error))
                    .collect();
                assert_eq!(got, want, "cap {cap} seed {seed} step {step}");
            }
            assert_eq!(t.entries().len(), cap);
        }
    }

    #[test]
    fn space_saving_keeps_heavy_hitters() {
        let mut t = TopK::new(4);
        for i in 0..1000u64 {
            t.add(1, "a");
            if i % 2 == 0 {
                t.add(2, "b");
            }
            t.add(100 + i, "noise");
        }
        let top = t.top(2);
        assert_eq!(top[0].key, "a");
        assert_eq!(top[0].posts, 1000);
        assert_eq!(top[1].key, "b");
        assert_eq!(t.entries().len(), 4);
    }

    #[test]
    fn series_forgets_old_hours() {
        let mut s = Series {
            platform: "x".into(),
            lang: "en".into(),
            total: 0,
            bins: VecDeque::new(),
        };
        for h in 0..100 {
            s.add(h, 24);
        }
        assert_eq!(s.total, 100);
        assert_eq!(s.bins.len(), 24);
        assert_eq!(s.count(90, 100), 10);
    }
}
