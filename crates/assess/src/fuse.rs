//! Fusion: signals → incidents, one per campaign.
//!
//! 1. **Seeds.** Each strong signal proposes a set of posts: a coordination
//!    network (its members' coordinated posts; a shared-template network:
//!    its members' posts signed with the shared line), a copy-paste family (a
//!    near-duplicate family posted by many accounts), a raised burst alert
//!    (its posts: the entity's posts during the burst), the posts matching
//!    one known claim.
//! 2. **Linking.** Seeds that share accounts or posts are the same campaign
//!    (union-find): two seeds join when they share at least two accounts
//!    and 30 % of the smaller one's accounts, or 30 % of the smaller one's
//!    posts. A network and the family it copy-pastes, the burst of the
//!    hashtag it floods and the claim it recycles become one incident.
//! 3. **Keeping.** A group becomes an incident when it holds evidence of
//!    coordination (a network whose matched posts are a median minute or
//!    less apart, or a copy-paste family) or a match with a known claim; a
//!    burst alone stays an alert (unless `burst_min_flagged_share` is set).
//! 4. **Completing.** A narrative the campaign started (first seen at most
//!    two hours before it, a third of its posts in it, at most four times
//!    its size) joins with all its posts; families of one narrative within a day of each other are one
//!    campaign (paraphrases of one claim). The original posts the incident's
//!    accounts reshare together (a ring's sources) join it with their
//!    authors. Accounts that are in no network or family and wrote one post
//!    of a burst or narrative are kept only when their actor signals flag
//!    them (score ≥ 0.5, or created less than 90 days before).
//! 5. **Scoring and explaining**: [`crate::build`].

use crate::signals::{Signals, account_key};
use pharos_alerts::Notification;
use pharos_analysis::bursts::EntityKind;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Thresholds of fusion.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FusionOptions {
    /// A family is a copy-paste flood with at least this many original posts …
    pub family_min_posts: usize,
    /// … by at least this many accounts.
    pub family_min_accounts: usize,
    /// … and at least this share of its original posts by distinct accounts
    /// (many accounts, not one account repeating itself).
    pub family_min_account_share: f64,
    /// … with at least `family_min_concentration` of its posts, by
    /// `family_min_accounts` accounts, within `family_window_s` seconds.
    pub family_window_s: i64,
    pub family_min_concentration: f64,
    /// A coordination network seeds an incident when the median gap
    /// between its matched posts is at most this many seconds.
    pub network_max_median_s: f64,
    /// A burst alone (no network, family or claim) is an incident when at
    /// least this share of its accounts is flagged; `None` (the default):
    /// a burst alone stays an alert.
    pub burst_min_flagged_share: Option<f64>,
    /// Claim matches below this confidence are ignored.
    pub min_match_confidence: f64,
    /// Two seeds share a campaign when they share ≥ 2 accounts and this
    /// share of the smaller one's accounts, or this share of its posts.
    pub link_share: f64,
    /// Incidents with fewer accounts are dropped.
    pub min_accounts: usize,
    /// Incidents whose confidence is below this are dropped (their signals
    /// stay in the alerts and networks).
    pub min_confidence: f64,
}

impl Default for FusionOptions {
    fn default() -> Self {
        FusionOptions {
            family_min_posts: 6,
            family_min_accounts: 5,
            family_min_account_share: 0.4,
            family_window_s: 12 * 3600,
            family_min_concentration: 0.7,
            network_max_median_s: 60.0,
            burst_min_flagged_share: None,
            min_match_confidence: 0.5,
            link_share: 0.3,
            min_accounts: 3,
            min_confidence: 0.2,
        }
    }
}

/// Where a seed came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeedKind {
    /// Index into [`Signals::networks`] (not its id: the server's live
    /// passes carry ids from pass to pass).
    Network(usize),
    /// A near-duplicate family id.
    Family(u64),
    /// Index into [`Signals::alerts`].
    Alert(usize),
    /// A claim id.
    Claim(String),
}

/// A signal's proposal: these posts belong together.
#[derive(Clone, Debug)]
pub struct Seed {
    pub kind: SeedKind,
    pub posts: BTreeSet<usize>,
    pub accounts: BTreeSet<String>,
    /// Families: the narrative holding most of its posts (paraphrases of
    /// one claim are several families of one narrative).
    pub narrative: Option<u64>,
    /// Event time of its first and last post (ms).
    pub span: (i64, i64),
}

/// A fused group of seeds: one campaign.
#[derive(Clone, Debug)]
pub struct Group {
    pub seeds: Vec<Seed>,
    /// Posts (indices into [`Signals::posts`]), in event-time order.
    pub posts: Vec<usize>,
    /// Posts added as sources reshared by the incident's accounts.
    pub sources: BTreeSet<usize>,
}

impl Group {
    pub fn networks(&self) -> impl Iterator<Item = usize> + '_ {
        self.seeds.iter().filter_map(|s| match s.kind {
            SeedKind::Network(n) => Some(n),
            _ => None,
        })
    }
    pub fn families(&self) -> impl Iterator<Item = u64> + '_ {
        self.seeds.iter().filter_map(|s| match s.kind {
            SeedKind::Family(f) => Some(f),
            _ => None,
        })
    }
    pub fn alerts(&self) -> impl Iterator<Item = usize> + '_ {
        self.seeds.iter().filter_map(|s| match s.kind {
            SeedKind::Alert(a) => Some(a),
            _ => None,
        })
    }
    pub fn claims(&self) -> impl Iterator<Item = &str> + '_ {
        self.seeds.iter().filter_map(|s| match &s.kind {
            SeedKind::Claim(c) => Some(c.as_str()),
            _ => None,
        })
    }
}

/// The seeds every signal proposes.
pub fn seeds(sig: &Signals, opts: &FusionOptions) -> Vec<Seed> {
    let mut out = Vec::new();
    let make = |kind: SeedKind, posts: BTreeSet<usize>| {
        let accounts = posts.iter().map(|&i| sig.account(i)).collect();
        let narrative = match kind {
            SeedKind::Family(_) => {
                let mut count: BTreeMap<u64, usize> = BTreeMap::new();
                for &i in &posts {
                    if let Some(n) = sig.assignments[i].narrative {
                        *count.entry(n).or_insert(0) += 1;
                    }
                }
                count
                    .into_iter()
                    .max_by_key(|&(n, c)| (c, std::cmp::Reverse(n)))
                    .filter(|&(_, c)| c * 10 >= posts.len() * 6)
                    .map(|(n, _)| n)
            }
            _ => None,
        };
        let t = |i: &usize| sig.posts[*i].time.millis();
        let span = (
            posts.iter().next().map(t).unwrap_or(0),
            posts.iter().next_back().map(t).unwrap_or(0),
        );
        Seed {
            kind,
            posts,
            accounts,
            narrative,
            span,
        }
    };
    for (k, n) in sig.networks.iter().enumerate() {
        // Accounts that keep acting within a minute of each other; heavy
        // posters who happen to share popular hashtags and links minutes
        // apart (median gaps of several minutes) are not a network.
        // A shared-template network (one footer under many channels' posts,
        // DISARM T0092) is evidence whatever its timing.
        if n.posts.is_empty()
            || (n.template.is_none() && n.median_delta_s > opts.network_max_median_s)
        {
            continue;
        }
        out.push(make(
            SeedKind::Network(k),
            n.posts.iter().copied().collect(),
        ));
    }
    // Copy-paste families: original (non-reshare) posts by many accounts.
    let mut families: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, a) in sig.assignments.iter().enumerate() {
        let p = &sig.posts[i];
        if p.reshare_of.as_deref().is_some_and(|r| !r.is_empty()) {
            continue;
        }
        if let Some(f) = a.family {
            families.entry(f).or_default().push(i);
        }
    }
    for (f, posts) in families {
        if posts.len() < opts.family_min_posts {
            continue;
        }
        let accounts: HashSet<String> = posts.iter().map(|&i| sig.account(i)).collect();
        if accounts.len() < opts.family_min_accounts
            || (accounts.len() as f64) < opts.family_min_account_share * posts.len() as f64
        {
            continue;
        }
        // A flood is concentrated in time: most of its copies, by enough
        // accounts, within one window. The same stock phrase written by
        // people over days is not.
        let Some(window) = densest_window(sig, &posts, opts.family_window_s * 1000) else {
            continue;
        };
        let in_window: HashSet<String> = window.iter().map(|&i| sig.account(i)).collect();
        if in_window.len() < opts.family_min_accounts
            || (window.len() as f64) < opts.family_min_concentration * posts.len() as f64
        {
            continue;
        }
        out.push(make(SeedKind::Family(f), posts.into_iter().collect()));
    }
    for (k, n) in sig.alerts.iter().enumerate() {
        let posts = alert_posts(sig, n);
        if !posts.is_empty() {
            out.push(make(SeedKind::Alert(k), posts));
        }
    }
    let mut claims: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for m in &sig.matches {
        if m.confidence < opts.min_match_confidence {
            continue;
        }
        if let Some(&i) = sig.index.get(&format!("{}:{}", m.platform, m.post_id)) {
            claims.entry(m.claim_id.as_str()).or_default().insert(i);
        }
    }
    for (c, posts) in claims {
        out.push(make(SeedKind::Claim(c.to_string()), posts));
    }
    out
}

/// The posts (sorted by time) inside the `window_ms` window holding most of them.
fn densest_window(sig: &Signals, posts: &[usize], window_ms: i64) -> Option<Vec<usize>> {
    let mut best = (0usize, 0usize);
    let mut lo = 0;
    for hi in 0..posts.len() {
        while sig.posts[posts[hi]].time.millis() - sig.posts[posts[lo]].time.millis() > window_ms {
            lo += 1;
        }
        if hi + 1 - lo > best.1 - best.0 {
            best = (lo, hi + 1);
        }
    }
    (best.1 > best.0).then(|| posts[best.0..best.1].to_vec())
}

/// The posts of a burst: the entity's posts between the burst's first post
/// and its close (or its evidence posts when the entity is not a post key).
pub fn alert_posts(sig: &Signals, n: &Notification) -> BTreeSet<usize> {
    let a = &n.alert;
    let from = a.burst_start.millis();
    let to = a.closed_at.unwrap_or(a.updated_at).millis();
    let lo = sig.posts.partition_point(|p| p.time.millis() < from);
    let hi = sig.posts.partition_point(|p| p.time.millis() <= to);
    let mut out = BTreeSet::new();
    let entity = a.entity.as_str();
    for i in lo..hi {
        let p = &sig.posts[i];
        let hit = match a.entity_kind {
            EntityKind::Hashtag => p.hashtags.iter().any(|h| h.eq_ignore_ascii_case(entity)),
            EntityKind::Url => p.links.iter().any(|l| l.url == entity),
            EntityKind::Domain => p.links.iter().any(|l| l.domain == entity),
            EntityKind::ReshareTarget => {
                let key = |r: &Option<String>| {
                    r.as_deref()
                        .is_some_and(|r| format!("{}:{r}", p.platform) == entity)
                };
                key(&p.reshare_of) || key(&p.quote_of)
            }
            EntityKind::Narrative => sig.assignments[i]
                .narrative
                .is_some_and(|x| x.to_string() == entity),
            EntityKind::Family => sig.assignments[i]
                .family
                .is_some_and(|x| x.to_string() == entity),
            _ => false,
        };
        if hit {
            out.insert(i);
        }
    }
    if out.is_empty() {
        // Entities Pharos cannot re-find (networks, conversations): the
        // alert's own evidence posts.
        let ids: HashSet<&str> = a.evidence_posts.iter().map(String::as_str).collect();
        for i in lo..hi {
            if ids.contains(sig.posts[i].id.as_str()) {
                out.insert(i);
            }
        }
    }
    out
}

struct UnionFind(Vec<usize>);
impl UnionFind {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut y = x;
        while self.0[y] != r {
            let next = self.0[y];
            self.0[y] = r;
            y = next;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.0[hi] = lo;
        }
    }
}

/// Two seeds are one campaign when they share at least two accounts (or
/// posts), `share` of the smaller one's and a tenth of the larger one's: a
/// large organic burst that a few campaign accounts joined does not swallow
/// the campaign.
fn linked(a: &Seed, b: &Seed, share: f64) -> bool {
    const DAY_MS: i64 = 86_400_000;
    if a.narrative.is_some()
        && a.narrative == b.narrative
        && a.span.0 <= b.span.1 + DAY_MS
        && b.span.0 <= a.span.1 + DAY_MS
    {
        return true;
    }
    let overlaps = |shared: usize, x: usize, y: usize| {
        shared >= 2
            && shared as f64 >= share * x.min(y).max(1) as f64
            && shared as f64 >= 0.1 * x.max(y) as f64
    };
    let shared_accounts = a.accounts.intersection(&b.accounts).count();
    if overlaps(shared_accounts, a.accounts.len(), b.accounts.len()) {
        return true;
    }
    let shared_posts = a.posts.intersection(&b.posts).count();
    overlaps(shared_posts, a.posts.len(), b.posts.len())
}

/// Links seeds into groups, keeps the groups that are campaigns and
/// completes them.
pub fn fuse(sig: &Signals, seeds: Vec<Seed>, opts: &FusionOptions) -> Vec<Group> {
    let n = seeds.len();
    let mut uf = UnionFind((0..n).collect());
    // Candidate pairs through shared accounts (an inverted index), then the
    // share test.
    let mut by_account: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in seeds.iter().enumerate() {
        for a in &s.accounts {
            by_account.entry(a.as_str()).or_default().push(i);
        }
    }
    let mut by_post: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, s) in seeds.iter().enumerate() {
        for &p in &s.posts {
            by_post.entry(p).or_default().push(i);
        }
    }
    let mut by_narrative: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, s) in seeds.iter().enumerate() {
        if let Some(n) = s.narrative {
            by_narrative.entry(n).or_default().push(i);
        }
    }
    let mut candidates: BTreeSet<(usize, usize)> = BTreeSet::new();
    for list in by_account
        .values()
        .chain(by_post.values())
        .chain(by_narrative.values())
    {
        if list.len() > 200 {
            // An account or post in hundreds of seeds links nothing by itself.
            continue;
        }
        for (x, &i) in list.iter().enumerate() {
            for &j in &list[x + 1..] {
                candidates.insert((i.min(j), i.max(j)));
            }
        }
    }
    for (i, j) in candidates {
        if linked(&seeds[i], &seeds[j], opts.link_share) {
            uf.union(i, j);
        }
    }
    let mut groups: BTreeMap<usize, Vec<Seed>> = BTreeMap::new();
    for (i, s) in seeds.into_iter().enumerate() {
        let r = uf.find(i);
        groups.entry(r).or_default().push(s);
    }
    let mut out = Vec::new();
    for (_, seeds) in groups {
        let strong = seeds.iter().any(|s| {
            matches!(
                s.kind,
                SeedKind::Network(_) | SeedKind::Family(_) | SeedKind::Claim(_)
            )
        });
        let suspicious_burst = seeds.iter().any(|s| match s.kind {
            SeedKind::Alert(k) => opts
                .burst_min_flagged_share
                .is_some_and(|min| sig.alerts[k].alert.flagged_actor_share >= min),
            _ => false,
        });
        if !strong && !suspicious_burst {
            continue;
        }
        let mut posts: BTreeSet<usize> = BTreeSet::new();
        for s in &seeds {
            posts.extend(s.posts.iter().copied());
        }
        // A narrative the campaign started (first seen at most two hours
        // before the group's first post, a third of the group's posts in it)
        // is the campaign's: its posts join.
        let first = posts
            .iter()
            .next()
            .map_or(0, |&i| sig.posts[i].time.millis());
        let mut per_narrative: BTreeMap<u64, usize> = BTreeMap::new();
        for &i in &posts {
            if let Some(n) = sig.assignments[i].narrative {
                *per_narrative.entry(n).or_insert(0) += 1;
            }
        }
        // … and is not many times larger than what the signals found (a
        // small stock-phrase family does not annex a large organic topic).
        let born: HashSet<u64> = per_narrative
            .iter()
            .filter(|&(n, &c)| {
                c * 3 >= posts.len()
                    && sig.narratives.get(n).is_some_and(|s| {
                        s.first_seen.millis() >= first - 2 * 3_600_000
                            && s.total_posts <= 4 * posts.len() as u64
                    })
            })
            .map(|(&n, _)| n)
            .collect();
        if !born.is_empty() {
            for (i, a) in sig.assignments.iter().enumerate() {
                if a.narrative.is_some_and(|n| born.contains(&n)) {
                    posts.insert(i);
                }
            }
        }
        // Participants of bursts only: keep accounts that are in a network,
        // wrote a strong seed's post, wrote ≥ 2 of the group's posts or are
        // flagged by their actor signals.
        let mut strong_accounts: HashSet<String> = HashSet::new();
        for s in &seeds {
            if !matches!(s.kind, SeedKind::Alert(_)) {
                strong_accounts.extend(s.accounts.iter().cloned());
            }
        }
        let mut per_account: HashMap<String, usize> = HashMap::new();
        for &i in &posts {
            *per_account.entry(sig.account(i)).or_insert(0) += 1;
        }
        let keep_account = |a: &str| {
            strong_accounts.contains(a)
                || per_account.get(a).copied().unwrap_or(0) >= 2
                || sig
                    .actors
                    .get(a)
                    .is_some_and(|s| s.score >= 0.5 || s.account_age_days.is_some_and(|d| d < 90.0))
        };
        let mut posts: BTreeSet<usize> = posts
            .into_iter()
            .filter(|&i| keep_account(&sig.account(i)))
            .collect();
        // Sources: originals reshared by ≥ 2 of the group's posts.
        let mut reshared: HashMap<String, usize> = HashMap::new();
        for &i in &posts {
            let p = &sig.posts[i];
            if let Some(r) = p.reshare_of.as_deref().filter(|r| !r.is_empty()) {
                *reshared.entry(format!("{}:{r}", p.platform)).or_insert(0) += 1;
            }
        }
        let mut sources = BTreeSet::new();
        for (key, count) in reshared {
            if count >= 2
                && let Some(&i) = sig.index.get(&key)
                && !posts.contains(&i)
            {
                sources.insert(i);
            }
        }
        posts.extend(sources.iter().copied());
        let accounts: HashSet<String> = posts.iter().map(|&i| sig.account(i)).collect();
        if accounts.len() < opts.min_accounts {
            continue;
        }
        out.push(Group {
            seeds,
            posts: posts.into_iter().collect(),
            sources,
        });
    }
    // Largest first, then earliest.
    out.sort_by(|a, b| {
        b.posts
            .len()
            .cmp(&a.posts.len())
            .then_with(|| a.posts.first().cmp(&b.posts.first()))
    });
    out
}

/// Accounts of a group (`platform:actor_id`) with their post counts.
pub fn group_accounts(sig: &Signals, g: &Group) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for &i in &g.posts {
        *m.entry(account_key(&sig.posts[i])).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(accounts: std::ops::Range<usize>, posts: std::ops::Range<usize>) -> Seed {
        Seed {
            kind: SeedKind::Family(0),
            posts: posts.collect(),
            accounts: accounts.map(|a| format!("x:{a}")).collect(),
            narrative: None,
            span: (0, 0),
        }
    }

    #[test]
    fn seeds_sharing_accounts_link_but_a_large_burst_does_not_swallow_a_campaign() {
        // A network of 10 and the family it posts: 6 shared accounts.
        assert!(linked(&seed(0..10, 0..50), &seed(4..14, 100..120), 0.3));
        // One shared account is never enough.
        assert!(!linked(&seed(0..3, 0..10), &seed(2..5, 20..30), 0.3));
        // A 1,000-account organic burst that 5 campaign accounts joined.
        assert!(!linked(
            &seed(0..10, 0..50),
            &seed(5..1005, 1000..3000),
            0.3
        ));
        // Shared posts link too (a burst of the family's own posts).
        assert!(linked(&seed(0..10, 0..50), &seed(100..140, 10..60), 0.3));
    }

    #[test]
    fn families_of_one_narrative_link_within_a_day() {
        let day = 86_400_000;
        let mut a = seed(0..5, 0..10);
        let mut b = seed(50..55, 20..30);
        a.narrative = Some(7);
        b.narrative = Some(7);
        a.span = (0, 3_600_000);
        b.span = (2 * 3_600_000, 5 * 3_600_000);
        assert!(linked(&a, &b, 0.3));
        b.span = (3 * day, 3 * day + 1);
        assert!(!linked(&a, &b, 0.3), "a week apart: two campaigns");
        b.span = (0, 1);
        b.narrative = Some(8);
        assert!(!linked(&a, &b, 0.3));
    }

    #[test]
    fn union_find_groups_transitively() {
        let mut uf = UnionFind((0..5).collect());
        uf.union(0, 1);
        uf.union(3, 4);
        uf.union(1, 4);
        let roots: Vec<usize> = (0..5).map(|i| uf.find(i)).collect();
        assert_eq!(roots, vec![0, 0, 2, 0, 0]);
    }
}
