//! From a fused group of signals to an [`Incident`]: what it holds, its
//! scores with their terms, its ABCDE facets and DISARM tags, each pointing
//! to evidence.

use crate::disarm::{self, Signal};
use crate::fuse::{Group, SeedKind};
use crate::incident::*;
use crate::signals::{ClaimInfo, Signals, account_key};
use pharos_analysis::bursts::EntityKind;
use pharos_core::EventTime;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Posts listed in full in an incident's evidence besides those statements
/// point to (the rest are in [`Incident::posts`] by id).
const SAMPLE_POSTS: usize = 60;

/// Accounts younger than this at their first post count as new.
const NEW_ACCOUNT_DAYS: f64 = 90.0;

/// Builds evidence lazily: an entry is added the first time something
/// points to it.
struct EvidenceBook<'a> {
    sig: &'a Signals,
    entries: Vec<Evidence>,
    seen: HashSet<String>,
}

impl<'a> EvidenceBook<'a> {
    fn post(&mut self, i: usize) -> EvidenceId {
        let p = &self.sig.posts[i];
        let id = Evidence::post_id(&p.platform, &p.id);
        if self.seen.insert(id.clone()) {
            let text: String = p.text.chars().take(500).collect();
            self.entries.push(Evidence {
                id: id.clone(),
                kind: Some(EvidenceKind::Post),
                label: format!(
                    "{} post by {} at {}",
                    p.platform,
                    p.actor
                        .handle
                        .as_deref()
                        .map(|h| format!("@{}", h.trim_start_matches('@')))
                        .unwrap_or_else(|| p.actor.id.clone()),
                    p.time.to_rfc3339()
                ),
                platform: Some(p.platform.clone()),
                time: Some(p.time),
                account: Some(Evidence::account_id(&p.platform, &p.actor.id)),
                text: Some(text),
                lang: p.lang.clone(),
                url: p.links.first().map(|l| l.url.clone()),
                reshare_of: p.reshare_of.as_ref().map(|r| format!("{}:{r}", p.platform)),
                ..Default::default()
            });
        }
        id
    }
    /// The evidence of the first five of `keys` (`platform:id`), those
    /// among the signals' posts.
    fn first_posts(&mut self, keys: &[String]) -> Vec<EvidenceId> {
        let found: Vec<usize> = keys
            .iter()
            .take(5)
            .filter_map(|k| self.sig.index.get(k).copied())
            .collect();
        found.into_iter().map(|i| self.post(i)).collect()
    }
    fn push(&mut self, e: Evidence) -> EvidenceId {
        let id = e.id.clone();
        if self.seen.insert(id.clone()) {
            self.entries.push(e);
        }
        id
    }
}

fn clamp01(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

fn term(
    name: &str,
    value: f64,
    weight: f64,
    explanation: String,
    evidence: Vec<EvidenceId>,
) -> ScoreTerm {
    let value = clamp01(value);
    ScoreTerm {
        name: name.to_string(),
        value,
        weight,
        contribution: value * weight,
        explanation,
        evidence,
    }
}

fn score(terms: Vec<ScoreTerm>) -> Score {
    Score {
        value: clamp01(terms.iter().map(|t| t.contribution).sum()),
        terms,
    }
}

fn top_counts(m: &HashMap<String, u64>, k: usize) -> Vec<Counted> {
    let mut v: Vec<Counted> = m
        .iter()
        .map(|(key, &posts)| Counted {
            key: key.clone(),
            posts,
        })
        .collect();
    v.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.key.cmp(&b.key)));
    v.truncate(k);
    v
}

/// Formats a count of things with a noun, `1 post`, `3 posts`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Joins with commas and "and".
pub(crate) fn join_and(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// `2025-03-05 14:10 UTC`.
pub(crate) fn short_time(t: EventTime) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `3 h 20 min`, `2 days 4 h`, `45 s`.
pub(crate) fn duration(secs: f64) -> String {
    if secs < 9.95 {
        return format!("{:.1} s", secs.max(0.0));
    }
    let s = secs.max(0.0).round() as i64;
    if s < 90 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", (s + 30) / 60)
    } else if s < 48 * 3600 {
        let (h, m) = (s / 3600, (s % 3600) / 60);
        if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        }
    } else {
        let (d, h) = (s / 86400, (s % 86400) / 3600);
        if h == 0 {
            format!("{d} days")
        } else {
            format!("{d} days {h} h")
        }
    }
}

fn timeline(sig: &Signals, posts: &[usize], first: EventTime, last: EventTime) -> Timeline {
    let span_s = ((last.millis() - first.millis()) / 1000).max(1);
    let bucket_s = [
        60,
        300,
        900,
        1800,
        3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
        86400,
        7 * 86400,
    ]
    .into_iter()
    .find(|b| span_s / b < 48)
    .unwrap_or(30 * 86400);
    let start_ms = first.millis().div_euclid(bucket_s * 1000) * bucket_s * 1000;
    let n = ((last.millis() - start_ms) / (bucket_s * 1000) + 1).max(1) as usize;
    let mut series: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for &i in posts {
        let p = &sig.posts[i];
        let b = ((p.time.millis() - start_ms) / (bucket_s * 1000)) as usize;
        let s = series
            .entry(p.platform.clone())
            .or_insert_with(|| vec![0; n]);
        if b < n {
            s[b] += 1;
        }
    }
    Timeline {
        bucket_s,
        start: EventTime(start_ms),
        series: series
            .into_iter()
            .map(|(platform, posts)| TimelineSeries { platform, posts })
            .collect(),
    }
}

/// What kind of campaign the group is, for the title.
fn campaign_noun(
    sig: &Signals,
    g: &Group,
    families_share: f64,
    top_hashtag_share: f64,
) -> &'static str {
    if g.claims().next().is_some() {
        return "Recycled false claim";
    }
    let mut kinds: BTreeMap<&str, f64> = BTreeMap::new();
    for n in g.networks() {
        for (k, w) in &sig.networks[n].kinds {
            *kinds.entry(k).or_insert(0.0) += w;
        }
    }
    let total: f64 = kinds.values().sum();
    let top = kinds
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, _)| *k);
    let hashtag_burst = g
        .alerts()
        .any(|a| sig.alerts[a].alert.entity_kind == EntityKind::Hashtag);
    if hashtag_burst && top_hashtag_share >= 0.6 {
        return "Hashtag flood";
    }
    // Several near-duplicate families of one narrative: paraphrases of
    // one story, pushed together.
    let mut family_narratives: BTreeMap<u64, usize> = BTreeMap::new();
    for s in &g.seeds {
        if let (SeedKind::Family(_), Some(n)) = (&s.kind, s.narrative) {
            *family_narratives.entry(n).or_insert(0) += 1;
        }
    }
    if family_narratives.values().any(|&c| c >= 2) && top.is_none() {
        return "Coordinated narrative";
    }
    if families_share >= 0.3 && top != Some("co-retweet") {
        return "Copy-paste campaign";
    }
    match top {
        Some(crate::signals::TEMPLATE_KIND) => "Shared-template network",
        Some("co-retweet") if kinds["co-retweet"] >= 0.4 * total => "Reshare ring",
        Some("co-link") => "Link-sharing network",
        Some("co-hashtag") => "Hashtag flood",
        Some("co-tweet") => "Copy-paste campaign",
        _ if hashtag_burst => "Hashtag flood",
        _ => "Coordinated campaign",
    }
}

/// Builds the incident of a group.
/// What every section of an incident reads: the signals, the group, its
/// posts (indices into [`Signals::posts`], event-time order) and their span.
struct Scope<'a> {
    sig: &'a Signals,
    g: &'a Group,
    posts: &'a [usize],
    first: EventTime,
    last: EventTime,
    /// `platform:id` of every post of the group.
    post_keys: HashSet<String>,
}

/// Accounts and coordination networks.
struct Accounts {
    networks: Vec<NetworkRef>,
    /// Account key to the networks (evidence ids) it belongs to.
    net_of: HashMap<String, Vec<EvidenceId>>,
    /// Account key to (posts, index of its first post).
    per_account: BTreeMap<String, (u64, usize)>,
    actors: Vec<ActorRef>,
    /// Latest profile seen per account key: followers, creation.
    profile: HashMap<String, (Option<u64>, Option<EventTime>)>,
}

/// What the posts hold: platforms, languages, links, hashtags, narratives.
struct Content {
    platforms: BTreeMap<String, u64>,
    languages: BTreeMap<String, u64>,
    links_top: Vec<Counted>,
    link_platforms: HashMap<String, BTreeSet<String>>,
    domains: HashMap<String, u64>,
    hashtags: HashMap<String, u64>,
    narratives: Vec<NarrativeRef>,
}

/// The near-duplicate families that seeded the group.
struct Families {
    refs: Vec<EvidenceId>,
    /// Families of 10 or more copies within 6 hours.
    floods: usize,
    posts: BTreeSet<usize>,
    /// Share of the group's posts in those families.
    share: f64,
}

/// The sections built from the signals, before the scores and statements.
struct Parts {
    accounts: Accounts,
    content: Content,
    families: Families,
    alerts: Vec<AlertRef>,
    claim_matches: Vec<ClaimMatchRef>,
    media: Vec<MediaRef>,
}

/// Measures the scores and statements share.
struct Measures<'a> {
    n_posts: usize,
    n_accounts: usize,
    coordinated_accounts: usize,
    coordinated_posts: BTreeSet<usize>,
    timeline: Timeline,
    peak_per_hour: f64,
    peak_time: EventTime,
    followers: u64,
    scored: Vec<f64>,
    flagged: Vec<&'a ActorRef>,
    new_accounts: Vec<&'a ActorRef>,
    uptake_posts: usize,
    uptake_accounts: HashSet<String>,
    uptake_refs: Vec<EvidenceId>,
    engagement: u64,
    views: u64,
    network_ids: Vec<EvidenceId>,
    alert_ids: Vec<EvidenceId>,
    match_ids: Vec<EvidenceId>,
    narrative_ids: Vec<EvidenceId>,
    first_post_ref: EvidenceId,
    peak_ref: Option<EvidenceId>,
    top_accounts: Vec<EvidenceId>,
    ai_files: Vec<&'a MediaRef>,
}

/// Builds the incident of a group: one function per section (accounts and
/// networks, content, families, alerts, claim matches, media; then the
/// measures, severity, confidence, DISARM techniques, and the title, ABCDE
/// and summary), each adding the evidence it points to.
pub fn build_incident(sig: &Signals, g: &Group, claims: &HashMap<String, ClaimInfo>) -> Incident {
    let mut ev = EvidenceBook {
        sig,
        entries: Vec::new(),
        seen: HashSet::new(),
    };
    let posts = &g.posts;
    let s = Scope {
        sig,
        g,
        posts,
        first: posts
            .iter()
            .map(|&i| sig.posts[i].time)
            .min()
            .unwrap_or_default(),
        last: posts
            .iter()
            .map(|&i| sig.posts[i].time)
            .max()
            .unwrap_or_default(),
        post_keys: posts
            .iter()
            .map(|&i| format!("{}:{}", sig.posts[i].platform, sig.posts[i].id))
            .collect(),
    };
    let parts = Parts {
        accounts: accounts(&s, &mut ev),
        content: content(&s, &mut ev),
        families: families(&s, &mut ev),
        alerts: alerts(&s, &mut ev),
        claim_matches: claim_matches(&s, claims, &mut ev),
        media: media(&s, &mut ev),
    };
    let m = measures(&s, &parts, &mut ev);
    let severity = severity(&parts, &m);
    let confidence = confidence(&parts, &m);
    let techniques = techniques(&s, &parts, &m, &mut ev);
    let (title, abcde, summary) = statements(&s, &parts, &m, &techniques, &severity, &confidence);
    let timeline = m.timeline;

    // The sample of posts for the evidence list.
    let first = s.first;
    let last = s.last;
    let step = (m.n_posts / SAMPLE_POSTS).max(1);
    for &i in posts.iter().step_by(step).take(SAMPLE_POSTS) {
        ev.post(i);
    }
    let account_keys: Vec<String> = parts.accounts.per_account.keys().cloned().collect();
    let first_key = format!(
        "{}:{}",
        sig.posts[posts[0]].platform, sig.posts[posts[0]].id
    );
    let mut evidence = ev.entries;
    evidence.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.id.cmp(&b.id))
    });
    let Parts {
        accounts: Accounts {
            networks, actors, ..
        },
        content:
            Content {
                platforms,
                languages,
                links_top,
                domains,
                hashtags,
                narratives,
                ..
            },
        alerts,
        claim_matches,
        media,
        ..
    } = parts;
    Incident {
        id: Incident::derive_id(&account_keys, &first_key),
        title,
        summary,
        first_seen: first,
        last_seen: last,
        timeline,
        severity,
        confidence,
        abcde,
        techniques,
        narratives,
        networks,
        alerts,
        claim_matches,
        actors,
        links: links_top,
        domains: top_counts(&domains, 20),
        hashtags: top_counts(&hashtags, 20),
        platforms,
        languages,
        posts: posts
            .iter()
            .map(|&i| format!("{}:{}", sig.posts[i].platform, sig.posts[i].id))
            .collect(),
        evidence,
        media,
    }
}

/// Accounts and coordination networks, with their evidence.
fn accounts(s: &Scope, ev: &mut EvidenceBook) -> Accounts {
    let (sig, g, posts) = (s.sig, s.g, s.posts);
    let mut net_of: HashMap<String, Vec<EvidenceId>> = HashMap::new();
    let mut networks = Vec::new();
    for n in g.networks() {
        let net = &sig.networks[n];
        let id = format!("network:{}", net.id);
        for a in &net.accounts {
            net_of.entry(a.clone()).or_default().push(id.clone());
        }
        let kind = net.kinds.keys().copied().collect::<Vec<_>>().join("+");
        let k = net.accounts.len() as f64;
        let density = if k > 1.0 {
            net.edges.len() as f64 / (k * (k - 1.0) / 2.0)
        } else {
            0.0
        };
        let refs: Vec<EvidenceId> = net
            .accounts
            .iter()
            .map(|a| {
                let (p, id) = a.split_once(':').unwrap_or(("", a));
                Evidence::account_id(p, id)
            })
            .collect();
        let label = match &net.template {
            Some(line) => format!(
                "shared-template network {}: {} accounts sign {} posts with the same line «{}» (DISARM T0092 Build Network)",
                net.id,
                net.accounts.len(),
                net.posts.len(),
                line
            ),
            None => format!(
                "coordination network {} ({}): {} accounts, {} edges, {} coordinated posts, median {} between matched posts",
                net.id,
                kind,
                net.accounts.len(),
                net.edges.len(),
                net.posts.len(),
                duration(net.median_delta_s)
            ),
        };
        ev.push(Evidence {
            id: id.clone(),
            kind: Some(EvidenceKind::Network),
            label,
            time: net.posts.first().map(|&i| sig.posts[i].time),
            text: net.template.clone(),
            value: Some(net.edges.iter().map(|e| e.2).sum()),
            refs,
            ..Default::default()
        });
        networks.push(NetworkRef {
            id,
            kind,
            accounts: net.accounts.clone(),
            edges: net
                .edges
                .iter()
                .map(|(a, b, w)| NetworkEdge {
                    from: a.clone(),
                    to: b.clone(),
                    weight: *w,
                })
                .collect(),
            density,
            median_time_delta_s: net.median_delta_s,
            coordinated_posts: net.posts.len() as u64,
            template: net.template.clone(),
        });
    }
    let mut per_account: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for &i in posts {
        let e = per_account
            .entry(account_key(&sig.posts[i]))
            .or_insert((0, i));
        e.0 += 1;
    }
    let mut actors: Vec<ActorRef> = per_account
        .iter()
        .map(|(key, &(n, i))| {
            let p = &sig.posts[i];
            let score = sig.actors.get(key);
            ActorRef {
                id: Evidence::account_id(&p.platform, &p.actor.id),
                platform: p.platform.clone(),
                actor_id: p.actor.id.clone(),
                handle: p.actor.handle.clone(),
                posts: n,
                inauthenticity: score.map(|s| s.score),
                reasons: score.map(|s| s.reasons.clone()).unwrap_or_default(),
                coordinated: net_of.contains_key(key),
                networks: net_of.get(key).cloned().unwrap_or_default(),
            }
        })
        .collect();
    actors.sort_by(|a, b| {
        b.coordinated
            .cmp(&a.coordinated)
            .then_with(|| b.posts.cmp(&a.posts))
            .then_with(|| a.id.cmp(&b.id))
    });
    // Latest profile seen per account (followers, creation).
    let mut profile: HashMap<String, (Option<u64>, Option<EventTime>)> = HashMap::new();
    for &i in posts {
        let p = &sig.posts[i];
        profile.insert(account_key(p), (p.actor.followers, p.actor.created));
    }
    for a in &actors {
        let key = a.key();
        let (followers, created) = profile.get(&key).cloned().unwrap_or_default();
        let label = format!(
            "{} account {}{}{}{}",
            a.platform,
            a.display(),
            followers
                .map(|f| format!(", {f} followers"))
                .unwrap_or_default(),
            created
                .map(|c| format!(", created {}", c.day()))
                .unwrap_or_default(),
            a.inauthenticity
                .map(|s| format!(", inauthenticity {s:.2}"))
                .unwrap_or_default()
        );
        ev.push(Evidence {
            id: a.id.clone(),
            kind: Some(EvidenceKind::Account),
            label,
            platform: Some(a.platform.clone()),
            lang: a.handle.clone(),
            time: created,
            value: a.inauthenticity,
            refs: a.networks.clone(),
            ..Default::default()
        });
    }
    Accounts {
        networks,
        net_of,
        per_account,
        actors,
        profile,
    }
}

/// Platforms, languages, links, domains, hashtags and narratives of the
/// posts, with the evidence of the top links and the narratives.
fn content(s: &Scope, ev: &mut EvidenceBook) -> Content {
    let (sig, posts) = (s.sig, s.posts);
    let mut platforms: BTreeMap<String, u64> = BTreeMap::new();
    let mut languages: BTreeMap<String, u64> = BTreeMap::new();
    let mut links: HashMap<String, u64> = HashMap::new();
    let mut link_platforms: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut link_first: HashMap<String, usize> = HashMap::new();
    let mut domains: HashMap<String, u64> = HashMap::new();
    let mut hashtags: HashMap<String, u64> = HashMap::new();
    let mut narr: HashMap<u64, u64> = HashMap::new();
    let mut fams: HashMap<u64, (u64, u64)> = HashMap::new(); // family -> (posts, narrative)
    for &i in posts {
        let p = &sig.posts[i];
        *platforms.entry(p.platform.clone()).or_insert(0) += 1;
        *languages
            .entry(p.lang.clone().unwrap_or_else(|| "und".into()))
            .or_insert(0) += 1;
        let mut seen_l = HashSet::new();
        for l in &p.links {
            if seen_l.insert(&l.url) {
                *links.entry(l.url.clone()).or_insert(0) += 1;
                link_platforms
                    .entry(l.url.clone())
                    .or_default()
                    .insert(p.platform.clone());
                link_first.entry(l.url.clone()).or_insert(i);
            }
        }
        let ds: BTreeSet<&String> = p.links.iter().map(|l| &l.domain).collect();
        for d in ds {
            *domains.entry(d.clone()).or_insert(0) += 1;
        }
        let hs: BTreeSet<String> = p.hashtags.iter().map(|h| h.to_lowercase()).collect();
        for h in hs {
            *hashtags.entry(h).or_insert(0) += 1;
        }
        let a = sig.assignments[i];
        if let Some(n) = a.narrative {
            *narr.entry(n).or_insert(0) += 1;
        }
        if let Some(f) = a.family {
            let e = fams
                .entry(f)
                .or_insert((0, a.narrative.unwrap_or(u64::MAX)));
            e.0 += 1;
        }
    }
    let links_top = top_counts(&links, 20);
    for l in &links_top {
        let i = link_first[&l.key];
        let first_post = ev.post(i);
        let domain = sig.posts[i]
            .links
            .iter()
            .find(|x| x.url == l.key)
            .map(|x| x.domain.clone());
        let ps: Vec<String> = link_platforms[&l.key].iter().cloned().collect();
        ev.push(Evidence {
            id: Evidence::link_id(&l.key),
            kind: Some(EvidenceKind::Link),
            label: format!(
                "{} posted {} in the incident on {}",
                l.key,
                plural(l.posts as usize, "time", "times"),
                ps.join(", ")
            ),
            url: Some(l.key.clone()),
            domain,
            value: Some(l.posts as f64),
            refs: vec![first_post],
            ..Default::default()
        });
    }
    // Narratives with at least 2 incident posts and 5 % of them.
    let mut narr_list: Vec<(u64, u64)> = narr
        .iter()
        .filter(|&(_, &n)| n >= 2 && n as f64 >= 0.05 * posts.len() as f64)
        .map(|(&k, &n)| (k, n))
        .collect();
    narr_list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    narr_list.truncate(8);
    let mut narratives = Vec::new();
    for &(n, count) in &narr_list {
        let summary = sig.narratives.get(&n);
        let mut families: Vec<Counted> = fams
            .iter()
            .filter(|(_, (c, nn))| *nn == n && *c >= 2)
            .map(|(f, (c, _))| Counted {
                key: format!("family:{f}"),
                posts: *c,
            })
            .collect();
        families.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.key.cmp(&b.key)));
        families.truncate(10);
        let (title, label, terms, rep, rep_text) = match summary {
            Some(s) => (
                s.title.clone(),
                s.label.text.clone(),
                s.label.terms.iter().map(|t| t.term.clone()).collect(),
                s.label
                    .representative
                    .as_ref()
                    .map(|r| format!("{}:{}", r.platform, r.id)),
                s.label
                    .representative
                    .as_ref()
                    .map(|r| r.text.clone())
                    .unwrap_or_default(),
            ),
            None => (
                String::new(),
                format!("narrative {n}"),
                Vec::new(),
                None,
                String::new(),
            ),
        };
        let mut refs: Vec<EvidenceId> = Vec::new();
        if let Some(r) = rep.as_ref().and_then(|r| sig.index.get(r)) {
            refs.push(ev.post(*r));
        }
        let id = format!("narrative:{n}");
        ev.push(Evidence {
            id: id.clone(),
            kind: Some(EvidenceKind::Narrative),
            label: format!(
                "narrative \u{201c}{}\u{201d}{}: {count} of the incident's posts{}",
                if title.is_empty() { &label } else { &title },
                if title.is_empty() {
                    String::new()
                } else {
                    format!(" ({label})")
                },
                summary
                    .map(|s| format!(" ({} in all)", s.total_posts))
                    .unwrap_or_default()
            ),
            time: summary.map(|s| s.first_seen),
            text: Some(rep_text.clone()).filter(|t| !t.is_empty()),
            value: Some(count as f64),
            refs,
            ..Default::default()
        });
        narratives.push(NarrativeRef {
            id,
            title,
            label,
            terms,
            representative: rep,
            representative_text: rep_text,
            posts: count,
            families,
        });
    }
    Content {
        platforms,
        languages,
        links_top,
        link_platforms,
        domains,
        hashtags,
        narratives,
    }
}

/// The families that seeded the group (copy-paste floods), with their evidence.
fn families(s: &Scope, ev: &mut EvidenceBook) -> Families {
    let (sig, g, posts) = (s.sig, s.g, s.posts);
    // Families that are seeds (copy-paste floods).
    let mut family_refs: Vec<EvidenceId> = Vec::new();
    let mut flood_families = 0usize;
    for s in &g.seeds {
        if let SeedKind::Family(f) = s.kind {
            let id = format!("family:{f}");
            let first_post = ev.post(*s.posts.iter().next().unwrap_or(&posts[0]));
            let times: Vec<i64> = s
                .posts
                .iter()
                .map(|&i| sig.posts[i].time.millis())
                .collect();
            let span = (times.iter().max().unwrap_or(&0) - times.iter().min().unwrap_or(&0)) as f64
                / 1000.0;
            if s.posts.len() >= 10 && span <= 6.0 * 3600.0 {
                flood_families += 1;
            }
            ev.push(Evidence {
                id: id.clone(),
                kind: Some(EvidenceKind::Family),
                label: format!(
                    "near-duplicate family {f}: {} copies by {} accounts within {}",
                    s.posts.len(),
                    s.accounts.len(),
                    duration(span)
                ),
                time: Some(sig.posts[*s.posts.iter().next().unwrap_or(&posts[0])].time),
                text: sig.posts[*s.posts.iter().next().unwrap_or(&posts[0])]
                    .text
                    .chars()
                    .take(300)
                    .collect::<String>()
                    .into(),
                value: Some(s.posts.len() as f64),
                refs: vec![first_post],
                ..Default::default()
            });
            family_refs.push(id);
        }
    }
    let family_posts: BTreeSet<usize> = g
        .seeds
        .iter()
        .filter(|s| matches!(s.kind, SeedKind::Family(_)))
        .flat_map(|s| s.posts.iter().copied())
        .collect();
    let families_share = family_posts.len() as f64 / posts.len().max(1) as f64;
    Families {
        refs: family_refs,
        floods: flood_families,
        posts: family_posts,
        share: families_share,
    }
}

/// The group's burst alerts, oldest first, with their evidence.
fn alerts(s: &Scope, ev: &mut EvidenceBook) -> Vec<AlertRef> {
    let (sig, g, posts) = (s.sig, s.g, s.posts);
    let mut alerts = Vec::new();
    for k in g.alerts() {
        let a = &sig.alerts[k].alert;
        let id = format!("alert:{}", a.id);
        let refs: Vec<EvidenceId> = a
            .evidence_posts
            .iter()
            .take(5)
            .filter_map(|pid| posts.iter().find(|&&i| sig.posts[i].id == *pid).copied())
            .collect::<Vec<_>>()
            .into_iter()
            .map(|i| ev.post(i))
            .collect();
        ev.push(Evidence {
            id: id.clone(),
            kind: Some(EvidenceKind::Alert),
            label: format!(
                "{} burst of {} {}: {} posts by {} accounts, {:.0}× its baseline, alerted {} after its first post (severity {:.2})",
                if a.closed_at.is_some() { "closed" } else { "open" },
                a.entity_kind.as_str(),
                a.entity,
                a.volume,
                a.distinct_actors,
                a.growth_rate,
                duration(a.lead_time_s),
                a.severity
            ),
            time: Some(a.opened_at),
            value: Some(a.severity),
            refs,
            ..Default::default()
        });
        alerts.push(AlertRef {
            id,
            alert_id: a.id.clone(),
            entity_kind: a.entity_kind.as_str().to_string(),
            entity: a.entity.clone(),
            opened_at: a.opened_at,
            closed_at: a.closed_at,
            lead_time_s: a.lead_time_s,
            severity: a.severity,
            volume: a.volume,
            explanation: a.explanation.clone(),
        });
    }
    alerts.sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then_with(|| a.id.cmp(&b.id)));
    alerts
}

/// Every claim match on the group's posts, one per claim, with its evidence.
fn claim_matches(
    s: &Scope,
    claims: &HashMap<String, ClaimInfo>,
    ev: &mut EvidenceBook,
) -> Vec<ClaimMatchRef> {
    let (sig, post_keys) = (s.sig, &s.post_keys);
    let mut by_claim: BTreeMap<String, (f64, Vec<String>)> = BTreeMap::new();
    for m in &sig.matches {
        let key = format!("{}:{}", m.platform, m.post_id);
        if post_keys.contains(&key) {
            let e = by_claim
                .entry(m.claim_id.clone())
                .or_insert((0.0, Vec::new()));
            e.0 = e.0.max(m.confidence);
            e.1.push(key);
        }
    }
    let mut claim_matches = Vec::new();
    for (claim_id, (confidence, mut mposts)) in by_claim {
        mposts.sort();
        mposts.dedup();
        let info = claims.get(&claim_id);
        let id = format!("match:{claim_id}");
        let refs = ev.first_posts(&mposts);
        ev.push(Evidence {
            id: id.clone(),
            kind: Some(EvidenceKind::Match),
            label: format!(
                "{} match{} claim {}{} (confidence {:.2})",
                plural(mposts.len(), "post", "posts"),
                if mposts.len() == 1 { "es" } else { "" },
                claim_id,
                info.map(|c| format!(" \u{201c}{}\u{201d}", c.text))
                    .unwrap_or_default(),
                confidence
            ),
            text: info.map(|c| c.text.clone()),
            url: info.and_then(|c| c.fact_checks.first().cloned()),
            value: Some(confidence),
            refs,
            ..Default::default()
        });
        claim_matches.push(ClaimMatchRef {
            id,
            claim_id,
            claim_text: info.map(|c| c.text.clone()).unwrap_or_default(),
            verdicts: info.map(|c| c.verdicts.clone()).unwrap_or_default(),
            confidence,
            posts: mposts,
            fact_checks: info.map(|c| c.fact_checks.clone()).unwrap_or_default(),
        });
    }
    claim_matches
}

/// The media files (`pharos media scan`) of the posts: every AI-declared
/// file and the first 20 others as evidence.
fn media(s: &Scope, ev: &mut EvidenceBook) -> Vec<MediaRef> {
    let (sig, posts) = (s.sig, s.posts);
    let media = crate::media::media_refs(sig, posts);
    let mut ai_seen = 0usize;
    for (k, m) in media.iter().enumerate() {
        // Every AI-declared file, and the first 20 others, as evidence.
        if m.ai.is_none() && k >= 20 + ai_seen {
            continue;
        }
        let refs = ev.first_posts(&m.posts);
        ev.push(Evidence {
            id: m.id.clone(),
            kind: Some(EvidenceKind::Media),
            label: format!(
                "{} {} in {} by {}: {}",
                m.kind,
                m.display(),
                plural(m.post_count as usize, "post", "posts"),
                plural(m.accounts as usize, "account", "accounts"),
                m.provenance()
            ),
            url: Some(m.file.clone()),
            value: Some(m.post_count as f64),
            refs,
            ..Default::default()
        });
        if m.ai.is_some() {
            ai_seen += 1;
        }
    }
    media
}

/// The measures the scores and statements share.
fn measures<'a>(s: &Scope, p: &'a Parts, ev: &mut EvidenceBook) -> Measures<'a> {
    let (sig, g, posts, first, last, post_keys) =
        (s.sig, s.g, s.posts, s.first, s.last, &s.post_keys);
    let Accounts {
        networks,
        per_account,
        actors,
        profile,
        ..
    } = &p.accounts;
    let (alerts, claim_matches, narratives) = (&p.alerts, &p.claim_matches, &p.content.narratives);
    let n_posts = posts.len();
    let n_accounts = actors.len();
    let coordinated_accounts = actors.iter().filter(|a| a.coordinated).count();
    let coordinated_posts: BTreeSet<usize> = g
        .networks()
        .flat_map(|n| sig.networks[n].posts.iter().copied())
        .collect();
    let timeline = timeline(sig, posts, first, last);
    let totals = timeline.totals();
    let peak = totals.iter().copied().max().unwrap_or(0);
    let peak_idx = totals.iter().position(|&x| x == peak).unwrap_or(0);
    let peak_per_hour = peak as f64 * 3600.0 / timeline.bucket_s as f64;
    let peak_time = EventTime(timeline.start.millis() + peak_idx as i64 * timeline.bucket_s * 1000);
    let followers: u64 = profile.values().filter_map(|(f, _)| *f).sum();
    let scored: Vec<f64> = actors.iter().filter_map(|a| a.inauthenticity).collect();
    let flagged: Vec<&ActorRef> = actors
        .iter()
        .filter(|a| a.inauthenticity.is_some_and(|s| s >= 0.5))
        .collect();
    let new_accounts: Vec<&ActorRef> = actors
        .iter()
        .filter(|a| {
            sig.actors
                .get(&a.key())
                .and_then(|s| s.account_age_days)
                .is_some_and(|d| d < NEW_ACCOUNT_DAYS)
        })
        .collect();
    // Uptake by accounts outside the incident: reshares, replies and quotes
    // of its posts.
    let incident_accounts: HashSet<String> = per_account.keys().cloned().collect();
    let mut uptake_posts = 0usize;
    let mut uptake_accounts: HashSet<String> = HashSet::new();
    let mut uptake_sample: Vec<usize> = Vec::new();
    for (i, p) in sig.posts.iter().enumerate() {
        let targets = [&p.reshare_of, &p.reply_to, &p.quote_of];
        let hit = targets.iter().any(|t| {
            t.as_deref()
                .is_some_and(|t| post_keys.contains(&format!("{}:{t}", p.platform)))
        });
        if hit {
            let a = account_key(p);
            if !incident_accounts.contains(&a) {
                uptake_posts += 1;
                uptake_accounts.insert(a);
                if uptake_sample.len() < 3 {
                    uptake_sample.push(i);
                }
            }
        }
    }
    let uptake_refs: Vec<EvidenceId> = uptake_sample.iter().map(|&i| ev.post(i)).collect();
    let engagement: u64 = posts
        .iter()
        .map(|&i| {
            let e = &sig.posts[i].engagement;
            e.likes.unwrap_or(0) + e.reshares.unwrap_or(0) + e.replies.unwrap_or(0)
        })
        .sum();
    let views: u64 = posts
        .iter()
        .filter_map(|&i| sig.posts[i].engagement.views)
        .sum();

    let network_ids: Vec<EvidenceId> = networks.iter().map(|n| n.id.clone()).collect();
    let alert_ids: Vec<EvidenceId> = alerts.iter().map(|a| a.id.clone()).collect();
    let match_ids: Vec<EvidenceId> = claim_matches.iter().map(|m| m.id.clone()).collect();
    let narrative_ids: Vec<EvidenceId> = narratives.iter().map(|n| n.id.clone()).collect();
    let first_post_ref = ev.post(posts[0]);
    let peak_ref = posts
        .iter()
        .find(|&&i| sig.posts[i].time >= peak_time)
        .map(|&i| ev.post(i));
    let top_accounts: Vec<EvidenceId> = actors.iter().take(5).map(|a| a.id.clone()).collect();
    Measures {
        n_posts,
        n_accounts,
        coordinated_accounts,
        coordinated_posts,
        timeline,
        peak_per_hour,
        peak_time,
        followers,
        scored,
        flagged,
        new_accounts,
        uptake_posts,
        uptake_accounts,
        uptake_refs,
        engagement,
        views,
        network_ids,
        alert_ids,
        match_ids,
        narrative_ids,
        first_post_ref,
        peak_ref,
        top_accounts,
        ai_files: p.media.iter().filter(|m| m.ai.is_some()).collect(),
    }
}

/// Severity: reach, velocity, spread, known falsehood.
fn severity(p: &Parts, m: &Measures) -> Score {
    let Measures {
        n_posts,
        n_accounts,
        followers,
        engagement,
        uptake_posts,
        uptake_accounts,
        peak_per_hour,
        peak_time,
        top_accounts,
        uptake_refs,
        peak_ref,
        match_ids,
        ..
    } = m;
    let (n_posts, n_accounts, followers, engagement, uptake_posts, peak_per_hour, peak_time) = (
        *n_posts,
        *n_accounts,
        *followers,
        *engagement,
        *uptake_posts,
        *peak_per_hour,
        *peak_time,
    );
    let (platforms, languages, claim_matches) =
        (&p.content.platforms, &p.content.languages, &p.claim_matches);
    // Half volume (300 posts give 0.63 of it), half audience on a log
    // scale (a million followers, engagements and outside uptakes give all).
    let audience = (followers + engagement + uptake_posts as u64) as f64;
    let reach_v = 0.5 * (1.0 - (-(n_posts as f64) / 300.0).exp())
        + 0.5 * clamp01((1.0 + audience).log10() / 6.0);
    score(vec![
        term(
            "reach",
            reach_v,
            0.3,
            format!(
                "{} posts (300 give 0.63 of the volume half) by {} accounts with {} followers between them; {} engagements on its posts; {} reshares, replies or quotes by {} accounts outside it (an audience of a million gives the full audience half).",
                n_posts,
                n_accounts,
                followers,
                engagement,
                uptake_posts,
                uptake_accounts.len()
            ),
            [top_accounts.clone(), uptake_refs.clone()].concat(),
        ),
        term(
            "velocity",
            1.0 - (-peak_per_hour / 60.0).exp(),
            0.25,
            format!(
                "Peak of {:.0} posts an hour around {} (60 an hour gives 0.63).",
                peak_per_hour,
                short_time(peak_time)
            ),
            peak_ref.iter().cloned().collect(),
        ),
        term(
            "spread",
            0.5 * ((platforms.len() as f64 - 1.0) / 2.0).min(1.0)
                + 0.25
                    * ((languages.keys().filter(|l| *l != "und").count() as f64 - 1.0) / 2.0)
                        .clamp(0.0, 1.0)
                + 0.25 * (uptake_accounts.len() as f64 / 50.0).min(1.0),
            0.25,
            format!(
                "On {} ({}), in {} ({}); taken up by {} outside the incident (audiences: 50 give the full quarter).",
                plural(platforms.len(), "platform", "platforms"),
                platforms.keys().cloned().collect::<Vec<_>>().join(", "),
                plural(languages.len(), "language", "languages"),
                languages.keys().cloned().collect::<Vec<_>>().join(", "),
                plural(uptake_accounts.len(), "account", "accounts"),
            ),
            uptake_refs.clone(),
        ),
        term(
            "known_falsehood",
            claim_matches
                .iter()
                .map(|m| m.confidence)
                .fold(0.0, f64::max),
            0.2,
            if claim_matches.is_empty() {
                "No post matches a claim in the fact-check library.".to_string()
            } else {
                format!(
                    "{} posts match {} already debunked (highest confidence {:.2}).",
                    claim_matches.iter().map(|m| m.posts.len()).sum::<usize>(),
                    plural(claim_matches.len(), "claim", "claims"),
                    claim_matches
                        .iter()
                        .map(|m| m.confidence)
                        .fold(0.0, f64::max)
                )
            },
            match_ids.clone(),
        ),
    ])
}

/// Confidence: strength and independence of the evidence.
fn confidence(p: &Parts, m: &Measures) -> Score {
    let Measures {
        n_posts,
        n_accounts,
        coordinated_accounts,
        coordinated_posts,
        scored,
        flagged,
        new_accounts,
        network_ids,
        alert_ids,
        match_ids,
        ..
    } = m;
    let (n_posts, n_accounts, coordinated_accounts) =
        (*n_posts, *n_accounts, *coordinated_accounts);
    let (networks, alerts, claim_matches) = (&p.accounts.networks, &p.alerts, &p.claim_matches);
    let Families {
        refs: family_refs,
        floods: flood_families,
        posts: family_posts,
        share: families_share,
    } = &p.families;
    let (flood_families, families_share) = (*flood_families, *families_share);
    let coord_share = coordinated_posts.len() as f64 / n_posts.max(1) as f64;
    let mean_inauth = if scored.is_empty() {
        0.0
    } else {
        scored.iter().sum::<f64>() / scored.len() as f64
    };
    let max_alert = alerts.iter().map(|a| a.severity).fold(0.0, f64::max);
    let independent: Vec<&str> = [
        (!networks.is_empty(), "coordination network"),
        (
            flood_families > 0 || families_share >= 0.3,
            "copy-paste family",
        ),
        (!alerts.is_empty(), "burst alert"),
        (!claim_matches.is_empty(), "claim match"),
        (
            flagged.len() >= 3 || new_accounts.len() * 3 >= n_accounts.max(1),
            "account signals",
        ),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| *name)
    .collect();
    score(vec![
        term(
            "coordination",
            coord_share.min(1.0) * (coordinated_accounts as f64 / 5.0).min(1.0),
            0.3,
            if networks.is_empty() {
                "No coordination network: no accounts repeatedly shared the same items within the window.".into()
            } else {
                format!(
                    "{} of {} posts ({:.0} %) were matched within seconds to minutes by another member of {} ({} accounts).",
                    coordinated_posts.len(),
                    n_posts,
                    100.0 * coord_share,
                    plural(
                        networks.len(),
                        "coordination network",
                        "coordination networks"
                    ),
                    coordinated_accounts
                )
            },
            network_ids.clone(),
        ),
        term(
            "duplication",
            families_share.min(1.0),
            0.15,
            format!(
                "{} posts ({:.0} %) belong to near-duplicate families posted by many accounts.",
                family_posts.len(),
                100.0 * families_share
            ),
            family_refs.clone(),
        ),
        term(
            "inauthenticity",
            mean_inauth.max(new_accounts.len() as f64 / n_accounts.max(1) as f64),
            0.15,
            format!(
                "Mean inauthenticity score {:.2} over {} scored accounts; {} score 0.5 or more; {} were created less than {} days before they posted.",
                mean_inauth,
                scored.len(),
                flagged.len(),
                new_accounts.len(),
                NEW_ACCOUNT_DAYS
            ),
            flagged.iter().take(5).map(|a| a.id.clone()).collect(),
        ),
        term(
            "burst",
            max_alert,
            0.1,
            if alerts.is_empty() {
                "No burst alert on its entities.".into()
            } else {
                format!(
                    "{} raised on its entities, the most severe at {:.2}.",
                    plural(alerts.len(), "alert", "alerts"),
                    max_alert
                )
            },
            alert_ids.clone(),
        ),
        term(
            "claim_match",
            claim_matches
                .iter()
                .map(|m| m.confidence)
                .fold(0.0, f64::max),
            0.1,
            if claim_matches.is_empty() {
                "No match with a known claim.".into()
            } else {
                format!(
                    "{} with known claims.",
                    plural(claim_matches.len(), "match", "matches")
                )
            },
            match_ids.clone(),
        ),
        term(
            "independence",
            (independent.len() as f64 - 1.0).max(0.0) / 3.0,
            0.2,
            format!(
                "{} independent kinds of evidence agree: {} (4 or more give the full term).",
                independent.len(),
                independent.join(", ")
            ),
            [
                network_ids.clone(),
                family_refs.clone(),
                alert_ids.clone(),
                match_ids.clone(),
            ]
            .concat(),
        ),
    ])
}

/// The DISARM techniques the signals show, each with why and its evidence.
fn techniques(s: &Scope, p: &Parts, m: &Measures, ev: &mut EvidenceBook) -> Vec<TechniqueTag> {
    let (sig, g) = (s.sig, s.g);
    let Accounts { net_of, .. } = &p.accounts;
    let Content {
        platforms,
        links_top,
        link_platforms,
        ..
    } = &p.content;
    let Families {
        refs: family_refs,
        floods: flood_families,
        posts: family_posts,
        share: families_share,
    } = &p.families;
    let (flood_families, families_share) = (*flood_families, *families_share);
    let (alerts, claim_matches) = (&p.alerts, &p.claim_matches);
    let Measures {
        coordinated_accounts,
        flagged,
        new_accounts,
        alert_ids,
        match_ids,
        ai_files,
        ..
    } = m;
    let coordinated_accounts = *coordinated_accounts;
    let mut signals: Vec<(Signal, String, Vec<EvidenceId>, Option<&'static str>)> = Vec::new();
    // (signal, why, evidence, only this t_id or None for all of the signal's)
    // Networks of accounts acting within a window, and shared-template
    // networks (the same signature under their posts, no timing).
    let timed: Vec<usize> = g
        .networks()
        .filter(|&n| sig.networks[n].template.is_none())
        .collect();
    let templated: Vec<usize> = g
        .networks()
        .filter(|&n| sig.networks[n].template.is_some())
        .collect();
    let net_id = |n: usize| format!("network:{}", sig.networks[n].id);
    for &n in &templated {
        let net = &sig.networks[n];
        let samples: Vec<EvidenceId> = net.posts.iter().take(5).map(|&i| ev.post(i)).collect();
        signals.push((
            Signal::CoordinatedNetwork,
            format!(
                "{} accounts that look independent sign {} posts with the same line «{}»: possibly one operator behind them.",
                net.accounts.len(),
                net.posts.len(),
                net.template.as_deref().unwrap_or_default()
            ),
            [vec![net_id(n)], samples].concat(),
            Some("T0092"),
        ));
    }
    if !timed.is_empty() {
        let timed_ids: Vec<EvidenceId> = timed.iter().map(|&n| net_id(n)).collect();
        let timed_accounts: HashSet<&str> = timed
            .iter()
            .flat_map(|&n| sig.networks[n].accounts.iter().map(String::as_str))
            .collect();
        let in_incident = if templated.is_empty() {
            coordinated_accounts
        } else {
            timed_accounts
                .iter()
                .filter(|a| p.accounts.per_account.contains_key(**a))
                .count()
        };
        signals.push((
            Signal::CoordinatedNetwork,
            format!(
                "{} accounts in {} posted or shared the same items within a median {} of each other.",
                in_incident,
                plural(timed.len(), "coordination network", "coordination networks"),
                duration(
                    timed
                        .iter()
                        .map(|&n| sig.networks[n].median_delta_s)
                        .fold(f64::INFINITY, f64::min)
                )
            ),
            timed_ids.clone(),
            Some("T0049.005"),
        ));
        let active_days = timed
            .iter()
            .map(|&n| {
                let ps = &sig.networks[n].posts;
                let t0 = ps
                    .iter()
                    .map(|&i| sig.posts[i].time.millis())
                    .min()
                    .unwrap_or(0);
                let t1 = ps
                    .iter()
                    .map(|&i| sig.posts[i].time.millis())
                    .max()
                    .unwrap_or(0);
                (t1 - t0) as f64 / 86_400_000.0
            })
            .fold(0.0, f64::max);
        if active_days >= 1.0 {
            signals.push((
                Signal::CoordinatedNetwork,
                format!("The network kept acting together over {active_days:.1} days."),
                timed_ids,
                Some("T0092"),
            ));
        }
    }
    let retweet_nets: Vec<EvidenceId> = g
        .networks()
        .filter(|&n| {
            let k = &sig.networks[n].kinds;
            let total: f64 = k.values().sum();
            k.get("co-retweet").copied().unwrap_or(0.0) >= 0.4 * total
        })
        .map(|n| format!("network:{}", sig.networks[n].id))
        .collect();
    if !retweet_nets.is_empty() {
        let source_refs: Vec<EvidenceId> = g.sources.iter().take(5).map(|&i| ev.post(i)).collect();
        signals.push((
            Signal::ReshareRing,
            format!(
                "Accounts reshared the same {} within seconds of each other.",
                plural(g.sources.len().max(1), "post", "posts")
            ),
            [retweet_nets.clone(), source_refs.clone()].concat(),
            Some("T0049.003"),
        ));
        let outside_sources = g
            .sources
            .iter()
            .filter(|&&i| !net_of.contains_key(&account_key(&sig.posts[i])))
            .count();
        if outside_sources > 0 {
            signals.push((
                Signal::ReshareRing,
                format!(
                    "The ring amplified {} written by accounts outside it.",
                    plural(outside_sources, "post", "posts")
                ),
                [retweet_nets, source_refs].concat(),
                Some("T0118"),
            ));
        }
    }
    if !family_refs.is_empty() {
        signals.push((
            Signal::CopyPasteFlood,
            format!(
                "{} posts ({:.0} %) are lightly edited copies of the same text by many accounts.",
                family_posts.len(),
                100.0 * families_share
            ),
            family_refs.clone(),
            Some("T0084.001"),
        ));
        if flood_families > 0 {
            signals.push((
                Signal::CopyPasteFlood,
                "At least one family posted 10 or more copies within 6 hours.".into(),
                family_refs.clone(),
                Some("T0049"),
            ));
        }
    }
    let hashtag_alerts: Vec<&AlertRef> = alerts
        .iter()
        .filter(|a| a.entity_kind == "hashtag")
        .collect();
    let flagged_hashtag: Vec<EvidenceId> = hashtag_alerts
        .iter()
        .filter(|a| {
            g.alerts().any(|k| {
                sig.alerts[k].alert.id == a.alert_id
                    && sig.alerts[k].alert.flagged_actor_share > 0.0
            })
        })
        .map(|a| a.id.clone())
        .collect();
    if !flagged_hashtag.is_empty() {
        signals.push((
            Signal::HashtagFlood,
            format!(
                "A hashtag ({}) burst with flagged accounts among those pushing it.",
                hashtag_alerts
                    .iter()
                    .map(|a| format!("#{}", a.entity))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            flagged_hashtag,
            None,
        ));
    }
    let cross_links: Vec<&Counted> = links_top
        .iter()
        .filter(|l| link_platforms.get(&l.key).is_some_and(|p| p.len() >= 2))
        .collect();
    if !cross_links.is_empty() {
        signals.push((
            Signal::LinkLaundering,
            format!(
                "{} pushed on several platforms ({}).",
                plural(cross_links.len(), "link was", "links were"),
                platforms.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            cross_links
                .iter()
                .take(10)
                .map(|l| Evidence::link_id(&l.key))
                .collect(),
            Some("T0119.002"),
        ));
    }
    let link_alerts: Vec<EvidenceId> = alerts
        .iter()
        .filter(|a| a.entity_kind == "url" || a.entity_kind == "domain")
        .map(|a| a.id.clone())
        .collect();
    if !link_alerts.is_empty() {
        signals.push((
            Signal::LinkLaundering,
            "Posts pushing links to outside sites burst together.".into(),
            link_alerts,
            Some("T0122"),
        ));
    }
    if !claim_matches.is_empty() {
        signals.push((
            Signal::RecycledDebunkedClaim,
            format!(
                "{} posts repeat {} fact-checkers have already debunked.",
                claim_matches.iter().map(|m| m.posts.len()).sum::<usize>(),
                plural(claim_matches.len(), "a claim", "claims")
            ),
            match_ids.clone(),
            None,
        ));
    }
    if flagged.len() >= 3 {
        signals.push((
            Signal::InauthenticAccounts,
            format!(
                "{} of its accounts have an inauthenticity score of 0.5 or more.",
                flagged.len()
            ),
            flagged.iter().take(10).map(|a| a.id.clone()).collect(),
            Some("T0146.007"),
        ));
    }
    if new_accounts.len() >= 3 {
        signals.push((
            Signal::InauthenticAccounts,
            format!(
                "{} of its accounts were created less than {} days before they posted.",
                new_accounts.len(),
                NEW_ACCOUNT_DAYS
            ),
            new_accounts.iter().take(10).map(|a| a.id.clone()).collect(),
            Some("T0150.001"),
        ));
    }
    let (actors, per_account) = (&p.accounts.actors, &p.accounts.per_account);
    let copied: Vec<(&ActorRef, &crate::media::AvatarShare)> = actors
        .iter()
        .filter_map(|a| sig.avatar_reuse.get(&a.key()).map(|s| (a, s)))
        .collect();
    if !copied.is_empty() {
        let inside = copied
            .iter()
            .filter(|(_, s)| s.others.iter().any(|o| per_account.contains_key(o)))
            .count();
        signals.push((
            Signal::CopiedAccountImagery,
            format!(
                "{} near-identical profile pictures (PDQ distance 31 or less) with other accounts{}: {}.",
                if copied.len() == 1 {
                    "1 of its accounts shares".to_string()
                } else {
                    format!("{} of its accounts share", copied.len())
                },
                if inside > 0 {
                    format!(" ({inside} with accounts of this incident)")
                } else {
                    String::new()
                },
                join_and(
                    &copied
                        .iter()
                        .take(4)
                        .map(|(a, s)| format!(
                            "{} ({}, with {})",
                            a.display(),
                            s.file,
                            join_and(&s.others.iter().take(3).cloned().collect::<Vec<_>>())
                        ))
                        .collect::<Vec<_>>()
                )
            ),
            copied.iter().take(10).map(|(a, _)| a.id.clone()).collect(),
            Some("T0145.001"),
        ));
    }
    if !alerts.is_empty() {
        signals.push((
            Signal::Burst,
            format!(
                "{} burst far above its baseline.",
                join_and(
                    &alerts
                        .iter()
                        .take(4)
                        .map(|a| format!("the {} {}", a.entity_kind.replace('_', " "), a.entity))
                        .collect::<Vec<_>>()
                )
            ),
            alert_ids.clone(),
            None,
        ));
    }
    let reply_alerts: Vec<EvidenceId> = alerts
        .iter()
        .filter(|a| a.entity_kind == "conversation")
        .map(|a| a.id.clone())
        .collect();
    if !reply_alerts.is_empty() {
        signals.push((
            Signal::ReplyFlood,
            "Replies flooded one conversation.".into(),
            reply_alerts,
            None,
        ));
    }
    for t_id in ["T0086.002", "T0087.001"] {
        let files: Vec<&&MediaRef> = ai_files
            .iter()
            .filter(|m| m.technique.as_deref() == Some(t_id))
            .collect();
        if files.is_empty() {
            continue;
        }
        let mut by_source: BTreeMap<pharos_media::AiDeclaration, usize> = BTreeMap::new();
        for m in &files {
            if let Some(d) = m.ai {
                *by_source.entry(d).or_insert(0) += 1;
            }
        }
        let sources: Vec<String> = by_source
            .iter()
            .map(|(d, n)| format!("{n} {}", crate::media::declaration_text(*d)))
            .collect();
        let posts_n: u64 = files.iter().map(|m| m.post_count).sum();
        signals.push((
            Signal::AiGeneratedMedia,
            format!(
                "{} in {} declare{} generative AI as their source: {}.",
                plural(
                    files.len(),
                    if t_id == "T0087.001" {
                        "video"
                    } else {
                        "picture"
                    },
                    if t_id == "T0087.001" {
                        "videos"
                    } else {
                        "pictures"
                    }
                ),
                plural(posts_n as usize, "post", "posts"),
                if files.len() == 1 { "s" } else { "" },
                join_and(&sources)
            ),
            files.iter().map(|m| m.id.clone()).collect(),
            Some(t_id),
        ));
    }
    let mut techniques: Vec<TechniqueTag> = Vec::new();
    for (signal, why, evidence, only) in signals {
        if evidence.is_empty() {
            continue;
        }
        for o in disarm::observable(signal) {
            if only.is_some_and(|t| t != o.t_id) {
                continue;
            }
            if let Some(existing) = techniques.iter_mut().find(|t| t.t_id == o.t_id) {
                for e in &evidence {
                    if !existing.evidence.contains(e) {
                        existing.evidence.push(e.clone());
                    }
                }
                existing.shown_by.push(' ');
                existing.shown_by.push_str(&why);
                continue;
            }
            techniques.push(TechniqueTag {
                t_id: o.t_id.to_string(),
                name: o.name.to_string(),
                tactic_id: Some(o.tactic_id.to_string()),
                signal: signal.as_str().to_string(),
                shown_by: why.clone(),
                evidence: evidence.clone(),
            });
        }
    }
    techniques
}

/// The title, the ABCDE statements and the summary.
fn statements(
    s: &Scope,
    p: &Parts,
    m: &Measures,
    techniques: &[TechniqueTag],
    severity: &Score,
    confidence: &Score,
) -> (String, Abcde, String) {
    let (sig, g, first, last) = (s.sig, s.g, s.first, s.last);
    let Accounts {
        networks, actors, ..
    } = &p.accounts;
    let Content {
        platforms,
        languages,
        links_top,
        domains,
        hashtags,
        narratives,
        ..
    } = &p.content;
    let family_refs = &p.families.refs;
    let families_share = p.families.share;
    let (alerts, claim_matches) = (&p.alerts, &p.claim_matches);
    let Measures {
        n_posts,
        n_accounts,
        coordinated_accounts,
        flagged,
        new_accounts,
        uptake_posts,
        uptake_accounts,
        uptake_refs,
        engagement,
        views,
        peak_per_hour,
        network_ids,
        alert_ids,
        match_ids,
        narrative_ids,
        first_post_ref,
        peak_ref,
        top_accounts,
        ai_files,
        ..
    } = m;
    let (n_posts, n_accounts, coordinated_accounts, uptake_posts, engagement, views, peak_per_hour) = (
        *n_posts,
        *n_accounts,
        *coordinated_accounts,
        *uptake_posts,
        *engagement,
        *views,
        *peak_per_hour,
    );
    let top_hashtag = top_counts(hashtags, 1).into_iter().next();
    let top_hashtag_share = top_hashtag
        .as_ref()
        .map_or(0.0, |h| h.posts as f64 / n_posts.max(1) as f64);
    let noun = campaign_noun(sig, g, families_share, top_hashtag_share);
    let top_domain = top_counts(domains, 1).into_iter().next();
    let template_line = g
        .networks()
        .find_map(|n| sig.networks[n].template.as_deref());
    let topic = match noun {
        "Shared-template network" if template_line.is_some() => {
            format!("«{}»", template_line.unwrap_or_default())
        }
        "Hashtag flood" if top_hashtag.is_some() => {
            format!(
                "#{}",
                top_hashtag.as_ref().map(|h| h.key.as_str()).unwrap_or("")
            )
        }
        "Link-sharing network" if top_domain.is_some() => {
            format!(
                "links to {}",
                top_domain.as_ref().map(|d| d.key.as_str()).unwrap_or("")
            )
        }
        _ => narratives
            .first()
            .map(|n| {
                let t: Vec<&str> = n.terms.iter().take(4).map(String::as_str).collect();
                if !n.title.trim().is_empty() {
                    n.title.clone()
                } else if t.is_empty() {
                    n.label.clone()
                } else {
                    t.join(" · ")
                }
            })
            .or_else(|| top_hashtag.as_ref().map(|h| format!("#{}", h.key)))
            .unwrap_or_else(|| "unlabelled content".into()),
    };
    let title = format!("{noun}: {topic}");
    let platform_list: Vec<String> = platforms.keys().cloned().collect();
    let lang_list: Vec<String> = languages.keys().filter(|l| *l != "und").cloned().collect();
    let span_s = (last.millis() - first.millis()) as f64 / 1000.0;
    let abcde = Abcde {
        actor: Statement {
            statement: format!(
                "{} took part{}; {} have an inauthenticity score of 0.5 or more and {} were created less than {} days before posting. Most active: {}.",
                plural(n_accounts, "account", "accounts"),
                if networks.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} of them in {}",
                        coordinated_accounts,
                        plural(
                            networks.len(),
                            "coordination network",
                            "coordination networks"
                        )
                    )
                },
                flagged.len(),
                new_accounts.len(),
                NEW_ACCOUNT_DAYS,
                join_and(
                    &actors
                        .iter()
                        .take(3)
                        .map(|a| format!("{} ({})", a.display(), a.platform))
                        .collect::<Vec<_>>()
                )
            ),
            evidence: [network_ids.clone(), top_accounts.clone()].concat(),
        },
        behaviour: Statement {
            statement: {
                let mut parts: Vec<String> = techniques
                    .iter()
                    .map(|t| format!("{} ({})", t.name, t.t_id))
                    .collect();
                parts.dedup();
                format!(
                    "{}. Observed techniques: {}.",
                    match noun {
                        "Reshare ring" =>
                            "Accounts reshared the same posts within seconds of each other",
                        "Link-sharing network" =>
                            "Accounts posted the same links within minutes of each other",
                        "Copy-paste campaign" =>
                            "Accounts posted lightly edited copies of the same text",
                        "Hashtag flood" => "Accounts flooded a hashtag within a short time",
                        "Recycled false claim" =>
                            "Accounts pushed a claim fact-checkers have debunked",
                        "Coordinated narrative" => {
                            "Accounts pushed one story in several paraphrased versions at once"
                        }
                        _ => "Accounts acted together",
                    },
                    if parts.is_empty() {
                        "none".to_string()
                    } else {
                        parts.join("; ")
                    }
                )
            },
            evidence: [network_ids.clone(), family_refs.clone(), alert_ids.clone()].concat(),
        },
        content: Statement {
            statement: format!(
                "{}{}{}{}",
                match narratives.first() {
                    Some(n) => format!("Main narrative \u{201c}{}\u{201d}", n.name()),
                    None => "No dominant narrative".to_string(),
                },
                if narratives.len() > 1 {
                    format!(" and {} more", narratives.len() - 1)
                } else {
                    String::new()
                },
                if links_top.is_empty() && hashtags.is_empty() {
                    ".".to_string()
                } else {
                    let tags = top_counts(hashtags, 3)
                        .iter()
                        .map(|h| format!("#{}", h.key))
                        .collect::<Vec<_>>()
                        .join(" ");
                    let domain = top_domain
                        .as_ref()
                        .map(|d| format!("links to {} ({} posts)", d.key, d.posts))
                        .unwrap_or_default();
                    let parts: Vec<String> = [tags, domain]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect();
                    format!("; {}.", parts.join(", "))
                },
                if claim_matches.is_empty() {
                    String::new()
                } else {
                    format!(
                        " It repeats {} already debunked.",
                        plural(claim_matches.len(), "claim", "claims")
                    )
                },
            ) + &if ai_files.is_empty() {
                String::new()
            } else {
                format!(
                    " {} declare{} itself made by generative AI.",
                    plural(ai_files.len(), "media file", "media files"),
                    if ai_files.len() == 1 { "s" } else { "" }
                )
                .replace("declare itself", "declare themselves")
            },
            evidence: [
                ai_files.iter().map(|m| m.id.clone()).collect(),
                narrative_ids.clone(),
                links_top
                    .iter()
                    .take(3)
                    .map(|l| Evidence::link_id(&l.key))
                    .collect(),
                match_ids.clone(),
            ]
            .concat(),
        },
        degree: Statement {
            statement: format!(
                "{} by {} on {} in {}, over {} from {} (peak {:.0} posts an hour).",
                plural(n_posts, "post", "posts"),
                plural(n_accounts, "account", "accounts"),
                join_and(&platform_list),
                if lang_list.is_empty() {
                    "an unknown language".into()
                } else {
                    join_and(&lang_list)
                },
                duration(span_s),
                short_time(first),
                peak_per_hour
            ),
            evidence: [
                vec![first_post_ref.clone()],
                peak_ref.iter().cloned().collect(),
            ]
            .concat(),
        },
        effect: Statement {
            statement: format!(
                "{} reshares, replies or quotes by {} outside the incident; {} engagements{}{}. Pharos sees posts, not minds: this is uptake, not persuasion.",
                uptake_posts,
                plural(uptake_accounts.len(), "account", "accounts"),
                engagement,
                if views > 0 {
                    format!(", {views} views")
                } else {
                    String::new()
                },
                alerts
                    .first()
                    .map(|a| format!(
                        "; first alert {} after the burst began",
                        duration(a.lead_time_s)
                    ))
                    .unwrap_or_default()
            ),
            evidence: [uptake_refs.clone(), alert_ids.clone()].concat(),
        },
    };
    let summary = format!(
        "{} {} pushed {} in {} on {} in {} between {} and {}{}; severity {:.2}, confidence {:.2}.",
        plural(n_accounts, "account", "accounts"),
        if networks.is_empty() {
            String::new()
        } else {
            format!("({} coordinated)", coordinated_accounts)
        },
        topic,
        plural(n_posts, "post", "posts"),
        join_and(&platform_list),
        if lang_list.is_empty() {
            "an unknown language".into()
        } else {
            join_and(&lang_list)
        },
        short_time(first),
        short_time(last),
        if claim_matches.is_empty() {
            String::new()
        } else {
            ", repeating a debunked claim".to_string()
        },
        severity.value,
        confidence.value
    )
    .replace("  ", " ");
    (title, abcde, summary)
}
