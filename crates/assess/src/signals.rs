//! The signals incidents are fused from, computed over one set of posts.
//!
//! One pass over the posts in event-time order feeds the narrative engine
//! (narrative and near-duplicate family of every post), the actor tracker
//! (inauthenticity score of every account) and the early-warning pipeline
//! (burst alerts through the alert rules). Coordination networks are then
//! computed on the whole set: one directed network per kind (co-retweet,
//! co-link, co-tweet, co-hashtag, co-image, each with its own time window), summed with
//! a weight per kind, split into communities with Leiden. Claim matches are
//! read from the store when the claims component has written them.
//!
//! Accounts are keyed `platform:actor_id` everywhere here, so the same actor
//! id on two platforms is two accounts.

use pharos_alerts::{Notification, Rules};
use pharos_analysis::actors::StreamModel;
use pharos_analysis::coordination::communities::{Graph, LeidenParams, leiden};
use pharos_analysis::coordination::directed::{
    DirectedNetwork, DirectedParams, Kind, MessageTable, directed_network,
};
use pharos_analysis::narratives::{Assignment, NarrativeSummary, SharedBoilerplate};
use pharos_core::Post;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Posts are fed to the alert pipeline (which runs the narrative engine) in
/// chunks of this many; it stages them internally (same result as one by
/// one).
const CHUNK: usize = 65_536;

/// One kind of coordination network and how it counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoordinationLayer {
    pub kind: Kind,
    /// Largest time difference between two matching posts, seconds.
    pub window_s: i64,
    /// Weight of one matched post of this kind in the summed network.
    pub weight: f64,
}

/// How coordination networks are computed.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordinationOptions {
    pub layers: Vec<CoordinationLayer>,
    /// Edges of the summed network (both directions added) below this are dropped.
    pub min_edge_weight: f64,
    /// Communities with fewer accounts are not networks.
    pub min_accounts: usize,
    /// Leiden resolution and seed.
    pub resolution: f64,
    pub seed: u64,
}

impl Default for CoordinationOptions {
    /// Co-retweet within 60 s (weight 1), co-link within 15 minutes (1),
    /// the same text within 15 minutes (1), co-hashtag within 10 minutes
    /// (0.5), near-identical images (PDQ distance ≤ 31, posts whose media
    /// carry `pdq:` hashes: `pharos media scan`) within 15 minutes (1); edges of summed weight ≥ 4; communities of ≥ 3 accounts;
    /// Leiden at resolution 1, seed 42.
    fn default() -> Self {
        CoordinationOptions {
            layers: vec![
                CoordinationLayer {
                    kind: Kind::CoRetweet,
                    window_s: 60,
                    weight: 1.0,
                },
                CoordinationLayer {
                    kind: Kind::CoLink,
                    window_s: 900,
                    weight: 1.0,
                },
                CoordinationLayer {
                    kind: Kind::CoTweet,
                    window_s: 900,
                    weight: 1.0,
                },
                CoordinationLayer {
                    kind: Kind::CoHashtag,
                    window_s: 600,
                    weight: 0.5,
                },
                CoordinationLayer {
                    kind: Kind::CoImage,
                    window_s: 900,
                    weight: 1.0,
                },
            ],
            min_edge_weight: 4.0,
            min_accounts: 3,
            resolution: 1.0,
            seed: 42,
        }
    }
}

/// A coordination network found in the posts.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundNetwork {
    /// 0, 1, ... by size (largest first); the server's live passes
    /// renumber them so ids carry on ([`crate::live::NetworkIds`]).
    pub id: usize,
    /// Member accounts (`platform:actor_id`), sorted.
    pub accounts: Vec<String>,
    /// Undirected edges between members, weight = summed matched posts.
    pub edges: Vec<(String, String, f64)>,
    /// Kinds that contributed to its edges, with their summed weight.
    pub kinds: BTreeMap<&'static str, f64>,
    /// Indices (into [`Signals::posts`]) of members' posts matched by
    /// another member's post within the window.
    pub posts: Vec<usize>,
    /// Median seconds between a coordinated post and its nearest match.
    pub median_delta_s: f64,
    /// A shared-template network (kind `shared-template`): the line its
    /// accounts sign their posts with (DISARM T0092 Build Network). Its
    /// posts are the members' posts carrying the line; no time window.
    pub template: Option<String>,
}

/// A stored claim match.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchRow {
    pub platform: String,
    pub post_id: String,
    pub claim_id: String,
    pub score: f64,
    pub confidence: f64,
}

/// What is known about a claim (from the claim library), to enrich matches.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClaimInfo {
    pub id: String,
    pub text: String,
    /// Fact-checkers' verdicts (`false`, `misleading`, ...).
    pub verdicts: Vec<String>,
    /// Fact-check URLs.
    pub fact_checks: Vec<String>,
}

impl ClaimInfo {
    /// What the fact-check library knows of a claim.
    pub fn of(c: &pharos_claims::Claim) -> ClaimInfo {
        ClaimInfo {
            id: c.id.clone(),
            text: c.text.clone(),
            verdicts: c.reviews.iter().filter_map(|r| r.rating.clone()).collect(),
            fact_checks: c.reviews.iter().filter_map(|r| r.url.clone()).collect(),
        }
    }
}

/// An account's inauthenticity score and its top reasons.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorScore {
    pub score: f64,
    pub reasons: String,
    pub account_age_days: Option<f64>,
}

/// Every signal over one set of posts.
pub struct Signals {
    /// Posts in event-time order.
    pub posts: Vec<Post>,
    /// Narrative and family of each post.
    pub assignments: Vec<Assignment>,
    /// Narrative summaries by id.
    pub narratives: HashMap<u64, NarrativeSummary>,
    /// Actor scores by `platform:actor_id` (accounts with enough posts).
    pub actors: HashMap<String, ActorScore>,
    /// Alerts that met a rule (latest state), highest severity first.
    pub alerts: Vec<Notification>,
    /// Coordination networks, largest first.
    pub networks: Vec<FoundNetwork>,
    /// Claim matches of these posts.
    pub matches: Vec<MatchRow>,
    /// Post index by `platform:id`.
    pub index: HashMap<String, usize>,
    /// Shared templates: lines of at least [`MIN_TEMPLATE_WORDS`] words
    /// that several accounts sign their posts with (the narrative engine's
    /// learned boilerplate); coordination evidence (DISARM T0092 Build
    /// Network), most accounts first.
    pub templates: Vec<SharedBoilerplate>,
    /// The posts' pictures grouped into near-identical ones (co-image keys).
    pub images: ImageClasses,
    /// The files posts reference as `pharos media scan` hashed them, with
    /// their provenance (set by the assessment from the store's records).
    pub media: crate::media::MediaFiles,
    /// Accounts sharing near-identical profile pictures, by
    /// `platform:actor_id` (set with [`Signals::media`]).
    pub avatar_reuse: HashMap<String, crate::media::AvatarShare>,
}

/// Near-identical pictures as one key: each PDQ hash of the posts (media
/// hashes `pdq:...`) mapped to the first hash of its group
/// ([`pharos_media::groups`] at PDQ distance ≤ [`IMAGE_DISTANCE`]), so the
/// co-image network, its evidence pairs and its coordinated posts all read
/// one key for a picture and its re-encoded, resized copies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageClasses(HashMap<String, String>);

/// PDQ distance within which two pictures are one (Meta's threshold).
pub const IMAGE_DISTANCE: u32 = pharos_analysis::coordination::directed::IMAGE_DISTANCE;

impl ImageClasses {
    pub fn of(posts: &[Post]) -> ImageClasses {
        let mut hex: Vec<String> = posts
            .iter()
            .flat_map(pharos_analysis::coordination::directed::image_keys)
            .collect();
        hex.sort_unstable();
        hex.dedup();
        let hashes: Vec<pharos_media::PdqHash> =
            hex.iter().filter_map(|h| h.parse().ok()).collect();
        if hashes.len() != hex.len() {
            return ImageClasses::default();
        }
        let groups = pharos_media::groups(&hashes, IMAGE_DISTANCE);
        ImageClasses(
            hex.iter()
                .zip(&groups)
                .filter(|&(h, &g)| *h != hex[g as usize])
                .map(|(h, &g)| (h.clone(), hex[g as usize].clone()))
                .collect(),
        )
    }

    /// The key of a hash's group (the hash itself when alone).
    pub fn key(&self, hex: String) -> String {
        match self.0.get(&hex) {
            Some(g) => g.clone(),
            None => hex,
        }
    }
}

/// Words a shared signature needs to count as a template network: a
/// one-word line ("Подписаться") is shared by unrelated channels.
pub const MIN_TEMPLATE_WORDS: u32 = 3;

/// Posts carrying a shared line (once it was the source's boilerplate) an
/// account needs to be a member of its template network: an account that
/// reshared a member's post once or twice carries the footer too.
pub const MIN_TEMPLATE_POSTS: u64 = 3;

/// The kind name of shared-template networks.
pub const TEMPLATE_KIND: &str = "shared-template";

/// Shared-template networks as coordination networks (ids from
/// `first_id`, in the order of `templates`): per shared line, the accounts
/// that signed at least [`MIN_TEMPLATE_POSTS`] posts with it (at least
/// `min_accounts` of them), every pair of them an edge weighted by the
/// smaller of their signed posts, and their posts that carry the line.
/// The median gap is between a signed post and the nearest signed post of
/// another member, whenever that was (a template is no time window).
pub fn template_networks(
    posts: &[Post],
    templates: &[SharedBoilerplate],
    first_id: usize,
    min_accounts: usize,
) -> Vec<FoundNetwork> {
    let mut out = Vec::new();
    let mut account_of: Vec<String> = Vec::new();
    for t in templates {
        let mut members: Vec<(String, u64)> = t
            .sources
            .iter()
            .filter(|s| s.posts >= MIN_TEMPLATE_POSTS)
            .map(|s| (format!("{}:{}", s.platform, s.actor), s.posts))
            .collect();
        if members.len() < min_accounts.max(2) {
            continue;
        }
        members.sort();
        if account_of.is_empty() {
            account_of = posts.iter().map(account_key).collect();
        }
        let set: HashSet<&str> = members.iter().map(|m| m.0.as_str()).collect();
        let carrying: Vec<usize> = posts
            .iter()
            .enumerate()
            .filter(|&(i, p)| set.contains(account_of[i].as_str()) && t.carried_by(&p.text))
            .map(|(i, _)| i)
            .collect();
        let mut edges = Vec::new();
        for (x, (a, pa)) in members.iter().enumerate() {
            for (b, pb) in &members[x + 1..] {
                edges.push((a.clone(), b.clone(), (*pa).min(*pb) as f64));
            }
        }
        // Gap to the nearest signed post of another member (posts are in
        // event-time order).
        let mut gaps: Vec<f64> = Vec::with_capacity(carrying.len());
        for (j, &i) in carrying.iter().enumerate() {
            let me = &account_of[i];
            let t0 = posts[i].time.millis();
            let other = |&&k: &&usize| &account_of[k] != me;
            let gap = |k: &usize| (posts[*k].time.millis() - t0).abs();
            let after = carrying[j + 1..].iter().find(other).map(gap);
            let before = carrying[..j].iter().rev().find(other).map(gap);
            if let Some(g) = after.into_iter().chain(before).min() {
                gaps.push(g as f64 / 1000.0);
            }
        }
        gaps.sort_by(f64::total_cmp);
        let median = gaps.get(gaps.len() / 2).copied().unwrap_or(0.0);
        let weight: f64 = edges.iter().map(|e| e.2).sum();
        out.push(FoundNetwork {
            id: first_id + out.len(),
            accounts: members.into_iter().map(|m| m.0).collect(),
            edges,
            kinds: BTreeMap::from([(TEMPLATE_KIND, weight)]),
            posts: carrying,
            median_delta_s: median,
            template: Some(t.text.clone()),
        });
    }
    out
}

impl Signals {
    /// Computes every signal over `posts` (sorted here by event time).
    pub fn compute(
        posts: Vec<Post>,
        rules: Rules,
        coordination: &CoordinationOptions,
        matches: Vec<MatchRow>,
    ) -> Result<Signals, pharos_alerts::DeliveryError> {
        let pipeline = crate::stream::AlertPipeline::new(rules, None, true)?;
        Self::compute_with(posts, pipeline, coordination, matches)
    }

    /// [`Self::compute`] with a pipeline of the caller's (its sinks get
    /// every notification, its claim signal raises claim alerts): one pass
    /// gives both the deliveries and the assessment. It must keep its
    /// alerts (`keep`) and have seen no post yet.
    pub fn compute_with(
        mut posts: Vec<Post>,
        mut pipeline: crate::stream::AlertPipeline,
        coordination: &CoordinationOptions,
        matches: Vec<MatchRow>,
    ) -> Result<Signals, pharos_alerts::DeliveryError> {
        posts.sort_by_key(|p| p.time);
        // The early-warning pipeline runs the narrative engine and the
        // actor tracker: its assignments, summaries and account signals are
        // the ones alerts refer to.
        let mut assignments = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(CHUNK) {
            assignments.extend(pipeline.push_batch_assigned(chunk)?);
        }
        pipeline.finish()?;
        let tracker = pipeline.actors();
        let alerts: Vec<Notification> = pipeline.ranked().into_iter().cloned().collect();
        let narratives = pipeline
            .narratives()
            .narratives(None, None)
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        let templates: Vec<SharedBoilerplate> = pipeline
            .narratives()
            .shared_boilerplate(2)
            .into_iter()
            .filter(|t| t.words >= MIN_TEMPLATE_WORDS)
            .collect();
        let model = StreamModel::default_model();
        // The tracker keys accounts by actor id; scope them by the platforms
        // the id posted on.
        let mut platforms_of: HashMap<&str, HashSet<&str>> = HashMap::new();
        for p in &posts {
            platforms_of
                .entry(p.actor.id.as_str())
                .or_default()
                .insert(p.platform.as_str());
        }
        let mut actors = HashMap::new();
        for s in tracker.all_signals() {
            let score = model.score(&s);
            let a = ActorScore {
                score: score.score,
                reasons: score.summary(2),
                account_age_days: s.account_age_days,
            };
            if let Some(ps) = platforms_of.get(s.actor_id.as_str()) {
                for p in ps {
                    actors.insert(format!("{p}:{}", s.actor_id), a.clone());
                }
            }
        }
        let index = posts
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("{}:{}", p.platform, p.id), i))
            .collect();
        let images = ImageClasses::of(&posts);
        let mut networks = coordination_networks_with(&posts, coordination, &images);
        let first = networks.len();
        networks.extend(template_networks(
            &posts,
            &templates,
            first,
            coordination.min_accounts,
        ));
        Ok(Signals {
            posts,
            assignments,
            narratives,
            actors,
            alerts,
            networks,
            matches,
            index,
            templates,
            images,
            media: crate::media::MediaFiles::default(),
            avatar_reuse: HashMap::new(),
        })
    }

    /// Sets the scanned media files, finds profile-picture reuse among the
    /// accounts and adds it to their actor signals' reasons.
    pub fn set_media(&mut self, files: crate::media::MediaFiles) {
        self.avatar_reuse =
            crate::media::avatar_reuse(&self.posts, &files, crate::assess::MIN_PDQ_QUALITY);
        self.media = files;
        for (account, share) in &self.avatar_reuse {
            if let Some(score) = self.actors.get_mut(account) {
                let why = format!(
                    "shares a near-identical profile picture with {} other account{}",
                    share.others.len(),
                    if share.others.len() == 1 { "" } else { "s" }
                );
                if score.reasons.is_empty() {
                    score.reasons = why;
                } else {
                    score.reasons = format!("{}; {why}", score.reasons);
                }
            }
        }
    }

    /// `platform:actor_id` of post `i`.
    pub fn account(&self, i: usize) -> String {
        account_key(&self.posts[i])
    }
}

/// `platform:actor_id`.
pub fn account_key(p: &Post) -> String {
    format!("{}:{}", p.platform, p.actor.id)
}

/// The keys of `post` for a kind (reshares only count for co-retweet;
/// co-image keys are the groups of `images`).
pub(crate) fn layer_keys(post: &Post, kind: Kind, images: &ImageClasses) -> Vec<String> {
    let reshare = post.reshare_of.as_deref().is_some_and(|r| !r.is_empty());
    if reshare != (kind == Kind::CoRetweet) {
        return Vec::new();
    }
    match kind {
        Kind::CoRetweet => post
            .reshare_of
            .iter()
            .map(|r| format!("{}:{r}", post.platform))
            .collect(),
        Kind::CoReply => post
            .reply_to
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| format!("{}:{r}", post.platform))
            .collect(),
        Kind::CoLink => post.links.iter().map(|l| l.url.clone()).collect(),
        Kind::CoDomain => post.links.iter().map(|l| l.domain.clone()).collect(),
        Kind::CoHashtag => post.hashtags.iter().map(|h| h.to_lowercase()).collect(),
        Kind::CoMedia => post.media.iter().filter_map(|m| m.hash.clone()).collect(),
        Kind::CoImage => pharos_analysis::coordination::directed::image_keys(post)
            .into_iter()
            .map(|h| images.key(h))
            .collect(),
        Kind::CoTweet | Kind::CoSimilarText => {
            // Short stock texts ("link", "wow") are not evidence of
            // coordination: at least four words.
            let t = pharos_analysis::similarity::normalize_cotweet(&post.text);
            if t.split_whitespace().count() < 4 {
                Vec::new()
            } else {
                vec![t]
            }
        }
    }
    .into_iter()
    .filter(|k| !k.is_empty())
    .collect()
}

/// Weight of an edge per kind of coordination (`co-link` → 12.0, ...).
type KindWeights = BTreeMap<&'static str, f64>;

/// Directed networks per layer, summed (both directions) into one undirected
/// network, split with Leiden; for each community of `min_accounts` or more,
/// the members' posts matched by another member.
pub fn coordination_networks(posts: &[Post], opts: &CoordinationOptions) -> Vec<FoundNetwork> {
    coordination_networks_with(posts, opts, &ImageClasses::of(posts))
}

/// [`coordination_networks`] with the posts' pictures already grouped.
pub fn coordination_networks_with(
    posts: &[Post],
    opts: &CoordinationOptions,
    images: &ImageClasses,
) -> Vec<FoundNetwork> {
    let mut summed: HashMap<(String, String), (f64, KindWeights)> = HashMap::new();
    for layer in &opts.layers {
        let mut table = MessageTable::new(layer.kind);
        for p in posts {
            let ks = layer_keys(p, layer.kind, images);
            if ks.is_empty() {
                continue;
            }
            let id = format!("{}:{}", p.platform, p.id);
            if layer.kind == Kind::CoSimilarText {
                table.push_text(&id, &account_key(p), p.time.millis(), &p.text);
            } else {
                table.push_keys(&id, &account_key(p), p.time.millis(), ks.iter());
            }
        }
        let params = DirectedParams::new(layer.window_s, 1.0);
        let net: DirectedNetwork = directed_network(&table, &params);
        for (a, b, w) in net.named_edges() {
            let (x, y) = if a <= b { (a, b) } else { (b, a) };
            let e = summed
                .entry((x.to_string(), y.to_string()))
                .or_insert_with(|| (0.0, BTreeMap::new()));
            e.0 += w * layer.weight;
            *e.1.entry(layer.kind.name()).or_insert(0.0) += w * layer.weight;
        }
    }
    let mut edges: Vec<(String, String, f64, KindWeights)> = summed
        .into_iter()
        .filter(|(_, (w, _))| *w >= opts.min_edge_weight)
        .map(|((a, b), (w, k))| (a, b, w, k))
        .collect();
    edges.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    let mut names: Vec<String> = edges
        .iter()
        .flat_map(|e| [e.0.clone(), e.1.clone()])
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return Vec::new();
    }
    let idx = |s: &str| names.binary_search_by(|n| n.as_str().cmp(s)).unwrap_or(0) as u32;
    let graph = Graph::from_edges(
        names.len(),
        edges.iter().map(|e| (idx(&e.0), idx(&e.1), e.2)),
    );
    let part = leiden(
        &graph,
        &LeidenParams {
            resolution: opts.resolution,
            seed: opts.seed,
            ..LeidenParams::default()
        },
    );
    let membership = part.membership;
    let mut out = Vec::new();
    // Members' posts by key per layer, to find the coordinated posts.
    let mut by_account: HashMap<&str, Vec<usize>> = HashMap::new();
    let account_of: Vec<String> = posts.iter().map(account_key).collect();
    for (i, a) in account_of.iter().enumerate() {
        by_account.entry(a.as_str()).or_default().push(i);
    }
    for (c, members) in part_members(&membership).into_iter().enumerate() {
        if members.len() < opts.min_accounts {
            continue;
        }
        let set: HashSet<&str> = members
            .iter()
            .map(|&m| names[m as usize].as_str())
            .collect();
        let mut kinds: BTreeMap<&'static str, f64> = BTreeMap::new();
        let mut net_edges = Vec::new();
        for e in &edges {
            if membership[idx(&e.0) as usize] == c as u32
                && membership[idx(&e.1) as usize] == c as u32
            {
                for (k, w) in &e.3 {
                    *kinds.entry(k).or_insert(0.0) += w;
                }
                net_edges.push((e.0.clone(), e.1.clone(), e.2));
            }
        }
        let (coordinated, median) =
            coordinated_posts(posts, &account_of, &by_account, &set, &opts.layers, images);
        let mut accounts: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        accounts.sort_unstable();
        out.push(FoundNetwork {
            id: 0,
            accounts,
            edges: net_edges,
            kinds,
            posts: coordinated,
            median_delta_s: median,
            template: None,
        });
    }
    out.sort_by(|a, b| {
        b.accounts
            .len()
            .cmp(&a.accounts.len())
            .then_with(|| a.accounts.cmp(&b.accounts))
    });
    for (i, n) in out.iter_mut().enumerate() {
        n.id = i;
    }
    out
}

fn part_members(membership: &[u32]) -> Vec<Vec<u32>> {
    let count = membership
        .iter()
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut out = vec![Vec::new(); count];
    for (v, &c) in membership.iter().enumerate() {
        out[c as usize].push(v as u32);
    }
    out
}

/// Posts of the members matched, on some layer's key and within its window,
/// by a post of another member; and the median gap to the nearest match.
fn coordinated_posts(
    posts: &[Post],
    account_of: &[String],
    by_account: &HashMap<&str, Vec<usize>>,
    members: &HashSet<&str>,
    layers: &[CoordinationLayer],
    images: &ImageClasses,
) -> (Vec<usize>, f64) {
    let mut hit: BTreeMap<usize, i64> = BTreeMap::new();
    for layer in layers {
        // key -> (time, post index) of members' posts
        let mut by_key: HashMap<String, Vec<(i64, usize)>> = HashMap::new();
        for m in members {
            for &i in by_account.get(m).map(Vec::as_slice).unwrap_or(&[]) {
                for k in layer_keys(&posts[i], layer.kind, images) {
                    by_key
                        .entry(k)
                        .or_default()
                        .push((posts[i].time.millis(), i));
                }
            }
        }
        let w = layer.window_s * 1000;
        for list in by_key.values_mut() {
            if list.len() < 2 {
                continue;
            }
            list.sort_unstable();
            for j in 0..list.len() {
                let (t, i) = list[j];
                let mut best = i64::MAX;
                // Nearest post of another account within the window, either side.
                for &(t2, i2) in list[j + 1..].iter() {
                    if t2 - t > w {
                        break;
                    }
                    if account_of[i2] != account_of[i] {
                        best = best.min(t2 - t);
                        break;
                    }
                }
                for &(t2, i2) in list[..j].iter().rev() {
                    if t - t2 > w {
                        break;
                    }
                    if account_of[i2] != account_of[i] {
                        best = best.min(t - t2);
                        break;
                    }
                }
                if best != i64::MAX {
                    let e = hit.entry(i).or_insert(best);
                    *e = (*e).min(best);
                }
            }
        }
    }
    let mut gaps: Vec<i64> = hit.values().copied().collect();
    gaps.sort_unstable();
    let median = if gaps.is_empty() {
        0.0
    } else if gaps.len() % 2 == 1 {
        gaps[gaps.len() / 2] as f64 / 1000.0
    } else {
        (gaps[gaps.len() / 2 - 1] + gaps[gaps.len() / 2]) as f64 / 2000.0
    };
    (hit.into_keys().collect(), median)
}

/// The store's claim matches with at least `min_confidence` (written by
/// `pharos claims match --store`), by platform, post id and claim id.
pub fn stored_matches<S: pharos_store::ClaimMatches + ?Sized>(
    store: &S,
    min_confidence: f64,
) -> Result<Vec<MatchRow>, pharos_store::StoreError> {
    let mut rows: Vec<MatchRow> = store
        .matches_at_least(min_confidence)?
        .into_iter()
        .map(|m| MatchRow {
            platform: m.platform,
            post_id: m.post_id,
            claim_id: m.claim_id,
            score: m.score,
            confidence: m.confidence,
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.platform, &a.post_id, &a.claim_id).cmp(&(&b.platform, &b.post_id, &b.claim_id))
    });
    Ok(rows)
}
