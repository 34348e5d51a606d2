//! The incremental per-account state and the signals read from it.
//!
//! [`ActorTracker::observe`] costs O(1) per post (amortised: expiry sweeps
//! run after a number of posts proportional to the live accounts) and
//! allocates only when an account is seen for the first time. Each account
//! keeps a fixed-size state (about 560 bytes plus its id): running gap
//! moments, a log-binned gap histogram, a 24-bin hour histogram, counters,
//! the last profile snapshot and a ring of the last 16 text hashes.
//!
//! Memory is bounded by the expiry horizon ([`TrackerConfig::horizon_ms`],
//! default 7 days of event time): an account with no post for longer than
//! the horizon, measured from the newest event time seen, is dropped at the
//! next sweep, so the live accounts are those active within the horizon plus
//! at most one sweep interval of newcomers. [`TrackerConfig::max_accounts`]
//! is a hard cap on top: past it, the least recently active accounts are
//! evicted first. Both are counted in [`ActorTracker::expired`] and
//! [`ActorTracker::evicted`].

use crate::similarity::text::{fast_lower, is_alphanumeric_fast};
use ahash::AHashMap;
use pharos_core::{Actor, EventTime, Post};

/// Number of log-spaced gap bins: 3 a doubling, from 1 s to 2^20 s (12 days).
pub const GAP_BINS: usize = 60;
const GAP_BINS_PER_OCTAVE: f64 = 3.0;
/// How many recent text hashes an account keeps for exact-duplicate checks.
pub const TEXT_RING: usize = 16;
const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: f64 = 86_400_000.0;

/// Settings of an [`ActorTracker`].
#[derive(Clone, Debug)]
pub struct TrackerConfig {
    /// Accounts with no post for this long (event time, behind the newest
    /// post seen) are dropped. Default 7 days.
    pub horizon_ms: i64,
    /// Hard cap on live accounts; the least recently active go first. Default 2,000,000.
    pub max_accounts: usize,
    /// Gap-based signals (burstiness, regularity, CV) need at least this many gaps. Default 5.
    pub min_gaps: u64,
    /// Hour-of-day profile needs at least this many posts. Default 10.
    pub min_posts_for_hours: u64,
    /// Offset added to UTC before taking the hour of day (minutes), for an
    /// audience in one time zone. Default 0 (UTC).
    pub utc_offset_minutes: i32,
    /// Night hours `[start, end)` in the (offset) hour of day. Default 0–6.
    pub night: (u8, u8),
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            horizon_ms: 7 * 24 * MS_PER_HOUR,
            max_accounts: 2_000_000,
            min_gaps: 5,
            min_posts_for_hours: 10,
            utc_offset_minutes: 0,
            night: (0, 6),
        }
    }
}

/// What other engines know about a post, passed along with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PostFlags {
    /// The near-duplicate engine's verdict. `None`: the tracker checks for an
    /// exact duplicate of the normalised text among the account's last
    /// [`TEXT_RING`] posts itself.
    pub near_duplicate: Option<bool>,
    /// [`normalised_text_hash`] of the post's text, when the caller made it
    /// already (off the tracker's thread: the pipeline's parallel read
    /// stage); `None`: the tracker hashes the text itself when it needs to.
    pub text_hash: Option<u64>,
}

/// Synchrony with others, from the coordination engine.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Synchrony {
    /// Distinct accounts this one is coordinated with.
    pub partners: u32,
    /// Share of this account's posts that are in a coordinated pair, in `[0, 1]`.
    pub coordinated_share: f64,
}

/// Fixed-size state of one account.
#[derive(Clone, Debug)]
struct AccountState {
    posts: u64,
    late: u64,
    reshares: u64,
    originals: u64,
    duplicates: u64,
    night: u64,
    first_ms: i64,
    last_ms: i64,
    /// Welford running moments of the gaps, in seconds.
    gaps: u64,
    gap_mean: f64,
    gap_m2: f64,
    gap_hist: [u32; GAP_BINS],
    hours: [u32; 24],
    /// Account age (days) at the first post seen, when the profile says when it was created.
    age_at_first_days: Option<f64>,
    created_ms: Option<i64>,
    followers: Option<u64>,
    following: Option<u64>,
    lifetime_posts: Option<u64>,
    verified: Option<bool>,
    ring: [u64; TEXT_RING],
    ring_len: u8,
    ring_next: u8,
    synchrony: Option<Synchrony>,
}

impl AccountState {
    fn new(time_ms: i64) -> Self {
        AccountState {
            posts: 0,
            late: 0,
            reshares: 0,
            originals: 0,
            duplicates: 0,
            night: 0,
            first_ms: time_ms,
            last_ms: time_ms,
            gaps: 0,
            gap_mean: 0.0,
            gap_m2: 0.0,
            gap_hist: [0; GAP_BINS],
            hours: [0; 24],
            age_at_first_days: None,
            created_ms: None,
            followers: None,
            following: None,
            lifetime_posts: None,
            verified: None,
            ring: [0; TEXT_RING],
            ring_len: 0,
            ring_next: 0,
            synchrony: None,
        }
    }

    fn take_profile(&mut self, a: &Actor, time_ms: i64) {
        if let Some(c) = a.created {
            self.created_ms = Some(c.millis());
            if self.age_at_first_days.is_none() {
                self.age_at_first_days =
                    Some(((time_ms - c.millis()) as f64 / MS_PER_DAY).max(0.0));
            }
        }
        if a.followers.is_some() {
            self.followers = a.followers;
        }
        if a.following.is_some() {
            self.following = a.following;
        }
        if a.posts.is_some() {
            self.lifetime_posts = a.posts;
        }
        if a.verified.is_some() {
            self.verified = a.verified;
        }
    }

    fn add_gap(&mut self, gap_ms: i64) {
        let g = gap_ms as f64 / 1000.0;
        self.gaps += 1;
        let d = g - self.gap_mean;
        self.gap_mean += d / self.gaps as f64;
        self.gap_m2 += d * (g - self.gap_mean);
        let bin = if g < 1.0 {
            0
        } else {
            ((g.log2() * GAP_BINS_PER_OCTAVE) as usize).min(GAP_BINS - 1)
        };
        self.gap_hist[bin] += 1;
    }

    /// True when `h` equals one of the last [`TEXT_RING`] hashes; records it.
    fn seen_text(&mut self, h: u64) -> bool {
        let n = self.ring_len as usize;
        let dup = self.ring[..n].contains(&h);
        self.ring[self.ring_next as usize] = h;
        self.ring_next = ((self.ring_next as usize + 1) % TEXT_RING) as u8;
        if n < TEXT_RING {
            self.ring_len += 1;
        }
        dup
    }
}

/// Signals of one account, read from its state.
///
/// `None` means "not enough evidence" (too few posts or gaps, or the
/// profile did not say), never zero.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorSignals {
    pub actor_id: String,
    /// Posts seen (including late ones).
    pub posts: u64,
    /// Posts that arrived with an event time before the account's previous post.
    pub late_posts: u64,
    pub first_seen: EventTime,
    pub last_seen: EventTime,
    /// Posts a day over the observed span (`(posts - 1) / span`), when the span is at least an hour.
    pub rate_per_day: Option<f64>,
    /// Posts a day over the account's life, from the profile's post count and creation time.
    pub lifetime_rate_per_day: Option<f64>,
    /// Goh–Barabási burstiness `B = (σ - μ) / (σ + μ)` of the gaps: −1 for a
    /// metronome, about 0 for a Poisson process, towards 1 for bursts.
    pub burstiness: Option<f64>,
    /// Coefficient of variation of the gaps, `σ / μ`.
    pub gap_cv: Option<f64>,
    /// Shannon entropy of the log-binned gaps, normalised to `[0, 1]` by
    /// `log2(min(bins, gaps))`.
    pub gap_entropy: Option<f64>,
    /// `1 - gap_entropy`: 1 when every gap falls in the same bin.
    pub regularity: Option<f64>,
    /// Entropy of the hour-of-day profile, normalised to `[0, 1]` by `log2 24`.
    pub hour_entropy: Option<f64>,
    /// Share of posts in the night hours.
    pub night_share: Option<f64>,
    /// Account age in days at the first post seen.
    pub account_age_days: Option<f64>,
    /// `(followers + 1) / (following + 1)`.
    pub follower_ratio: Option<f64>,
    pub followers: Option<u64>,
    pub following: Option<u64>,
    pub verified: Option<bool>,
    /// Share of posts that reshare another post.
    pub reshare_share: f64,
    /// Share of own (non-reshare) posts that duplicate an earlier one.
    pub duplicate_share: Option<f64>,
    pub synchrony: Option<Synchrony>,
}

/// Per-account signals over a stream of posts, with bounded memory.
#[derive(Debug)]
pub struct ActorTracker {
    config: TrackerConfig,
    accounts: AHashMap<Box<str>, AccountState>,
    watermark_ms: i64,
    since_sweep: usize,
    expired: u64,
    evicted: u64,
}

impl Default for ActorTracker {
    fn default() -> Self {
        ActorTracker::new(TrackerConfig::default())
    }
}

/// FNV-1a hash of the text with URLs and mentions left out, letters and
/// digits lowercased, every run of other characters read as one space.
/// Case, punctuation and link differences therefore do not hide a copy.
pub fn normalised_text_hash(text: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut any = false;
    // A separator is written lazily, before the next letter or digit, so
    // trailing punctuation leaves no trace.
    for word in text.split_whitespace() {
        if word.starts_with('@') || word.starts_with("http://") || word.starts_with("https://") {
            continue;
        }
        let mut gap = true;
        let mut feed = |ch: char| {
            if is_alphanumeric_fast(ch) {
                if gap && any {
                    h = (h ^ b' ' as u64).wrapping_mul(PRIME);
                }
                gap = false;
                any = true;
                let mut buf = [0u8; 4];
                for &b in ch.encode_utf8(&mut buf).as_bytes() {
                    h = (h ^ b as u64).wrapping_mul(PRIME);
                }
            } else {
                gap = true;
            }
        };
        for c in word.chars() {
            match fast_lower(c) {
                Some(l) => feed(l),
                None => c.to_lowercase().for_each(&mut feed),
            }
        }
    }
    if any { h } else { 0 }
}

impl ActorTracker {
    pub fn new(config: TrackerConfig) -> Self {
        ActorTracker {
            config,
            accounts: AHashMap::new(),
            watermark_ms: i64::MIN,
            since_sweep: 0,
            expired: 0,
            evicted: 0,
        }
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Feeds one post; the tracker checks for exact duplicates itself.
    pub fn observe(&mut self, post: &Post) {
        self.observe_with(post, PostFlags::default());
    }

    /// Feeds one post with what other engines know about it.
    pub fn observe_with(&mut self, post: &Post, flags: PostFlags) {
        let t = post.time.millis();
        if t > self.watermark_ms {
            self.watermark_ms = t;
        }
        let cfg = &self.config;
        let night = cfg.night;
        let offset_ms = cfg.utc_offset_minutes as i64 * 60_000;
        let st = match self.accounts.get_mut(post.actor.id.as_str()) {
            Some(s) => s,
            None => self
                .accounts
                .entry(post.actor.id.as_str().into())
                .or_insert_with(|| AccountState::new(t)),
        };
        st.take_profile(&post.actor, t);
        if st.posts > 0 {
            if t >= st.last_ms {
                st.add_gap(t - st.last_ms);
                st.last_ms = t;
            } else {
                st.late += 1;
                if t < st.first_ms {
                    st.first_ms = t;
                }
            }
        }
        st.posts += 1;
        let hour = (t + offset_ms).div_euclid(MS_PER_HOUR).rem_euclid(24) as usize;
        st.hours[hour] += 1;
        let (ns, ne) = (night.0 as usize, night.1 as usize);
        let is_night = if ns <= ne {
            hour >= ns && hour < ne
        } else {
            hour >= ns || hour < ne
        };
        st.night += is_night as u64;
        if post.reshare_of.is_some() {
            st.reshares += 1;
        } else {
            st.originals += 1;
            let dup = match flags.near_duplicate {
                Some(d) => d,
                None => {
                    let h = flags
                        .text_hash
                        .unwrap_or_else(|| normalised_text_hash(&post.text));
                    h != 0 && st.seen_text(h)
                }
            };
            st.duplicates += dup as u64;
        }
        self.since_sweep += 1;
        if self.since_sweep >= 4096.max(self.accounts.len() / 2)
            || self.accounts.len() > self.config.max_accounts
        {
            self.sweep();
        }
    }

    /// Records what the coordination engine found about an account (kept
    /// while the account is live).
    pub fn set_synchrony(&mut self, actor_id: &str, synchrony: Synchrony) {
        if let Some(s) = self.accounts.get_mut(actor_id) {
            s.synchrony = Some(synchrony);
        }
    }

    /// Drops accounts idle past the horizon, then enforces the hard cap.
    pub fn sweep(&mut self) {
        self.since_sweep = 0;
        let cutoff = self.watermark_ms.saturating_sub(self.config.horizon_ms);
        let before = self.accounts.len();
        self.accounts.retain(|_, s| s.last_ms >= cutoff);
        self.expired += (before - self.accounts.len()) as u64;
        let cap = self.config.max_accounts;
        if self.accounts.len() > cap {
            // Keep 90% of the cap so the next sweep is not immediate.
            let keep = cap - cap / 10;
            let mut lasts: Vec<i64> = self.accounts.values().map(|s| s.last_ms).collect();
            let k = lasts.len() - keep;
            let (_, &mut kth, _) = lasts.select_nth_unstable(k);
            let before = self.accounts.len();
            let mut drop_at_kth = self.accounts.values().filter(|s| s.last_ms < kth).count();
            // Accounts with last == kth are dropped until `k` are gone.
            self.accounts.retain(|_, s| {
                if s.last_ms < kth {
                    false
                } else if s.last_ms == kth && drop_at_kth < k {
                    drop_at_kth += 1;
                    false
                } else {
                    true
                }
            });
            self.evicted += (before - self.accounts.len()) as u64;
        }
    }

    /// Live accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Accounts dropped for inactivity so far.
    pub fn expired(&self) -> u64 {
        self.expired
    }

    /// Accounts dropped by the hard cap so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The newest event time seen.
    pub fn watermark(&self) -> Option<EventTime> {
        (self.watermark_ms != i64::MIN).then_some(EventTime(self.watermark_ms))
    }

    /// Signals of one live account.
    pub fn signals(&self, actor_id: &str) -> Option<ActorSignals> {
        self.accounts
            .get_key_value(actor_id)
            .map(|(k, s)| self.read(k, s))
    }

    /// Signals of every live account (in no particular order).
    pub fn all_signals(&self) -> impl Iterator<Item = ActorSignals> + '_ {
        self.accounts.iter().map(|(k, s)| self.read(k, s))
    }

    fn read(&self, id: &str, s: &AccountState) -> ActorSignals {
        let cfg = &self.config;
        let span_ms = s.last_ms - s.first_ms;
        let rate_per_day =
            (span_ms >= MS_PER_HOUR).then(|| (s.posts - 1) as f64 / (span_ms as f64 / MS_PER_DAY));
        let lifetime_rate_per_day = match (s.lifetime_posts, s.created_ms) {
            (Some(p), Some(c)) => {
                let days = ((s.last_ms - c) as f64 / MS_PER_DAY).max(1.0);
                Some(p as f64 / days)
            }
            _ => None,
        };
        let enough_gaps = s.gaps >= cfg.min_gaps.max(2);
        let (mut burstiness, mut gap_cv, mut gap_entropy) = (None, None, None);
        if enough_gaps {
            let mu = s.gap_mean;
            let sigma = (s.gap_m2 / s.gaps as f64).max(0.0).sqrt();
            if mu > 0.0 {
                gap_cv = Some(sigma / mu);
            }
            if sigma + mu > 0.0 {
                burstiness = Some((sigma - mu) / (sigma + mu));
            }
            let norm = (GAP_BINS.min(s.gaps as usize) as f64).log2();
            gap_entropy = Some((entropy_bits(&s.gap_hist, s.gaps) / norm).clamp(0.0, 1.0));
        }
        let (hour_entropy, night_share) = if s.posts >= cfg.min_posts_for_hours.max(1) {
            (
                Some(entropy_bits(&s.hours, s.posts) / 24f64.log2()),
                Some(s.night as f64 / s.posts as f64),
            )
        } else {
            (None, None)
        };
        let follower_ratio = match (s.followers, s.following) {
            (Some(f), Some(g)) => Some((f as f64 + 1.0) / (g as f64 + 1.0)),
            _ => None,
        };
        ActorSignals {
            actor_id: id.to_string(),
            posts: s.posts,
            late_posts: s.late,
            first_seen: EventTime(s.first_ms),
            last_seen: EventTime(s.last_ms),
            rate_per_day,
            lifetime_rate_per_day,
            burstiness,
            gap_cv,
            gap_entropy,
            regularity: gap_entropy.map(|e| 1.0 - e),
            hour_entropy,
            night_share,
            account_age_days: s.age_at_first_days,
            follower_ratio,
            followers: s.followers,
            following: s.following,
            verified: s.verified,
            reshare_share: s.reshares as f64 / s.posts.max(1) as f64,
            duplicate_share: (s.originals > 0).then(|| s.duplicates as f64 / s.originals as f64),
            synchrony: s.synchrony,
        }
    }
}

/// Shannon entropy (bits) of a histogram with `total` items.
fn entropy_bits(hist: &[u32], total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let n = total as f64;
    hist.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}
