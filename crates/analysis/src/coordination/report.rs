//! Coordination networks as analysts read them: communities and components
//! with their scores, and the posts behind every edge and every network.
//!
//! A [`CoordinationReport`] is built from either method's network:
//!
//! - [`coortweet_report`]: CooRTweet's undirected network; the evidence of
//!   an edge is exactly its rows of the pairs table (object, both contents,
//!   both accounts, their times, the delta).
//! - [`directed_report`]: a QUT-style directed network; the evidence of
//!   `u → v` is its matched message pairs ([`edge_evidence`]'s rows).
//!
//! Both go through a [`ReportBuilder`], which any other edge list can use.
//!
//! # Communities and components
//! [`leiden`] on the undirected weighted graph (a directed network is made
//! undirected by adding `w(u→v) + w(v→u)`; self-loops are left out), and
//! connected components of the same graph. Every community and every
//! component becomes a [`NetworkReport`].
//!
//! # Scores of a network
//! Over its members and the edges with both ends among them:
//!
//! - `accounts`, `edges` (directed edges for a directed network), `density`
//!   = edges / possible edges (`n(n−1)/2`, or `n(n−1)` when directed);
//! - `median_time_delta` (seconds): the median over every evidence pair of
//!   its edges (CooRTweet: the pairs' `time_delta`; directed: `|t₂ − t₁|`
//!   of the matched messages) — all pairs, not only the listed ones;
//! - `edge_symmetry`: CooRTweet, the mean `edge_symmetry_score` of its
//!   edges; directed, the share of its edge weight that is reciprocated
//!   (`u → v` counts when `v → u` is an edge too);
//! - `coordinated_share` = `coordinated_posts / member_posts`: of all the
//!   members' posts in the input, those that are in any evidence pair (of
//!   any edge of the whole network, not only of this community);
//! - `platforms`, `languages`: counts over the members' coordinated posts,
//!   when the input carries them (the store, importer formats); empty for
//!   a bare CooRTweet or QUT table, which has neither;
//! - `first_activity`, `last_activity`: the earliest and latest post of its
//!   edges' evidence pairs.
//!
//! # Evidence limits
//! An edge lists at most [`ReportOptions::max_evidence_per_edge`] pairs and
//! a network at most [`ReportOptions::max_evidence_per_network`] (the union
//! of its edges' lists, in edge order); `evidence_total` and
//! `evidence_left_out` say how many were not listed. Scores always use all
//! pairs.

use super::communities::{
    Graph, LeidenParams, Partition, connected_components, leiden, modularity,
};
use super::coortweet::{Coordination, Pair};
use super::directed::{
    DirectedNetwork, DirectedParams, EdgeEvidence, Kind, MessageTable, edge_evidence, read_qut,
};
use super::network::Network;
use super::shares::ShareTable;
use pharos_core::{EventTime, Post};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::path::Path;

/// A post as evidence shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidencePost {
    pub id: String,
    pub account: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub time_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The first link of the post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl EvidencePost {
    /// A post known only by id, account and time (a bare CSV row).
    pub fn bare(id: &str, account: &str, time_ms: i64) -> Self {
        EvidencePost {
            id: id.to_string(),
            account: account.to_string(),
            time: EventTime::from_millis(time_ms).to_rfc3339(),
            time_ms,
            ..Default::default()
        }
    }

    /// The evidence form of a canonical post (`id` as given).
    pub fn from_post(id: &str, p: &Post) -> Self {
        EvidencePost {
            platform: Some(p.platform.clone()).filter(|s| !s.is_empty()),
            lang: p.lang.clone().filter(|s| !s.is_empty()),
            text: Some(p.text.clone()).filter(|s| !s.is_empty()),
            link: p.links.first().map(|l| l.url.clone()),
            ..EvidencePost::bare(id, &p.actor.id, p.time.millis())
        }
    }
}

/// One pair of posts behind an edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidencePair {
    /// CooRTweet: the object both shared (`object_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// CooRTweet: `content_id` (the older share); directed: the message of `from`.
    pub post: EvidencePost,
    /// CooRTweet: `content_id_y`; directed: the matching message of `to`.
    pub post_y: EvidencePost,
    /// Seconds between the two posts (never negative).
    pub time_delta: f64,
}

/// The posts of the input by id, for evidence with text, links, platform
/// and language, and each account's number of posts.
#[derive(Debug, Default)]
pub struct PostIndex {
    posts: HashMap<String, EvidencePost>,
    per_account: HashMap<String, u64>,
}

impl PostIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes `post` under `id` (the id the method's table uses: the post
    /// id for CooRTweet, `platform:id` for directed). A repeated id keeps
    /// its first post and is counted once.
    pub fn insert(&mut self, id: String, post: EvidencePost) {
        if self.posts.contains_key(&id) {
            return;
        }
        *self.per_account.entry(post.account.clone()).or_insert(0) += 1;
        self.posts.insert(id, post);
    }

    /// Indexes a canonical post under its id, or `platform:id` when `scoped`.
    pub fn insert_post(&mut self, p: &Post, scoped: bool) {
        let id = if scoped {
            format!("{}:{}", p.platform, p.id)
        } else {
            p.id.clone()
        };
        self.insert(id.clone(), EvidencePost::from_post(&id, p));
    }

    pub fn get(&self, id: &str) -> Option<&EvidencePost> {
        self.posts.get(id)
    }

    /// Posts of `account` in the input.
    pub fn account_posts(&self, account: &str) -> u64 {
        self.per_account.get(account).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.posts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.posts.is_empty()
    }

    /// The post `id` if indexed, else a bare one.
    fn lookup(&self, id: &str, account: &str, time_ms: i64) -> EvidencePost {
        match self.posts.get(id) {
            Some(p) => p.clone(),
            None => EvidencePost::bare(id, account, time_ms),
        }
    }
}

/// Options of a report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReportOptions {
    pub leiden: LeidenParams,
    /// Pairs listed per edge (all are counted).
    pub max_evidence_per_edge: usize,
    /// Pairs listed per network (all are counted).
    pub max_evidence_per_network: usize,
}

impl Default for ReportOptions {
    /// Resolution 1, seed 42; 100 pairs an edge, 1000 a network.
    fn default() -> Self {
        ReportOptions {
            leiden: LeidenParams::default(),
            max_evidence_per_edge: 100,
            max_evidence_per_network: 1000,
        }
    }
}

/// A value with its count (platforms, languages).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub value: String,
    pub count: u64,
}

/// One coordination network: a community or a connected component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkReport {
    /// `community` or `component`.
    pub kind: String,
    /// Numbered from 0 by size, largest first.
    pub id: u32,
    pub accounts: usize,
    pub edges: usize,
    /// Sum of the weights of its edges.
    pub weight: f64,
    pub density: f64,
    /// Seconds; `None` without evidence pairs.
    pub median_time_delta: Option<f64>,
    pub edge_symmetry: Option<f64>,
    pub coordinated_posts: u64,
    pub member_posts: u64,
    pub coordinated_share: Option<f64>,
    pub platforms: Vec<Count>,
    pub languages: Vec<Count>,
    pub first_activity: Option<String>,
    pub last_activity: Option<String>,
    /// Account ids, sorted.
    pub members: Vec<String>,
    pub evidence: Vec<EvidencePair>,
    /// Pairs of its edges not listed in `evidence`.
    pub evidence_left_out: u64,
    /// The layers whose matches made its edges (`co-retweet`, `co-link`,
    /// `co-tweet`, `co-hashtag`, `co-image`, `shared-template`), heaviest
    /// first; empty where the method does not say (a one-layer run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// A shared-template network: the line its accounts sign their posts
    /// with (DISARM T0092 Build Network). Its evidence is that line, not
    /// timing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// One account of the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountReport {
    pub account: String,
    pub community: u32,
    pub component: u32,
    /// Neighbours in the undirected graph.
    pub degree: usize,
    /// Summed weight of its undirected edges.
    pub strength: f64,
    /// Its posts in the input, and those in any evidence pair.
    pub posts: u64,
    pub coordinated_posts: u64,
}

/// One edge with its method's columns and its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeReport {
    pub from: String,
    pub to: String,
    pub weight: f64,
    /// The method's own columns (CooRTweet: `avg_time_delta`,
    /// `n_content_id`, ...).
    pub columns: Map<String, Value>,
    /// The community of both ends, when they share one.
    pub community: Option<u32>,
    pub component: u32,
    pub evidence_total: u64,
    pub evidence: Vec<EvidencePair>,
}

/// Counts over the whole network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub accounts: usize,
    pub edges: usize,
    pub evidence_pairs: u64,
    pub communities: usize,
    pub components: usize,
    /// Modularity of the communities (at the resolution used); `None` for
    /// a graph without edges.
    pub modularity: Option<f64>,
    pub resolution: f64,
    pub seed: u64,
}

/// The whole report: what `--json` writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoordinationReport {
    /// `coortweet` or `directed`.
    pub method: String,
    pub directed: bool,
    pub parameters: Value,
    pub summary: Summary,
    pub communities: Vec<NetworkReport>,
    pub components: Vec<NetworkReport>,
    pub accounts: Vec<AccountReport>,
    pub edges: Vec<EdgeReport>,
}

impl CoordinationReport {
    /// Writes the report as one JSON document.
    pub fn write_json<W: Write>(&self, out: W) -> io::Result<()> {
        serde_json::to_writer_pretty(out, self).map_err(io::Error::other)
    }

    /// Writes one JSON object per edge (its columns and evidence) per line.
    pub fn write_evidence_jsonl<W: Write>(&self, mut out: W) -> io::Result<()> {
        for e in &self.edges {
            serde_json::to_writer(&mut out, e).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

struct EdgeAcc {
    a: u32,
    b: u32,
    weight: f64,
    columns: Map<String, Value>,
    symmetry: Option<f64>,
    listed: Vec<EvidencePair>,
    total: u64,
    /// Time deltas in milliseconds, with counts.
    deltas: BTreeMap<i64, u64>,
    first_ms: i64,
    last_ms: i64,
}

/// A post's platform and language.
type PlatformLang = (Option<String>, Option<String>);

/// Collects edges and their evidence pairs, then computes communities and
/// scores ([`ReportBuilder::finish`]).
pub struct ReportBuilder {
    method: String,
    directed: bool,
    opts: ReportOptions,
    accounts: Vec<String>,
    account_ix: HashMap<String, u32>,
    /// Coordinated posts per account: post id → (platform, lang).
    coordinated: Vec<HashMap<String, PlatformLang>>,
    account_posts: Vec<u64>,
    edges: Vec<EdgeAcc>,
}

impl ReportBuilder {
    pub fn new(method: &str, directed: bool, opts: &ReportOptions) -> Self {
        ReportBuilder {
            method: method.to_string(),
            directed,
            opts: *opts,
            accounts: Vec::new(),
            account_ix: HashMap::new(),
            coordinated: Vec::new(),
            account_posts: Vec::new(),
            edges: Vec::new(),
        }
    }

    fn account(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.account_ix.get(name) {
            return i;
        }
        let i = self.accounts.len() as u32;
        self.accounts.push(name.to_string());
        self.account_ix.insert(name.to_string(), i);
        self.coordinated.push(HashMap::new());
        self.account_posts.push(0);
        i
    }

    /// Adds an edge (directed `from → to` when the builder is directed) and
    /// returns its number; `symmetry` is CooRTweet's `edge_symmetry_score`.
    pub fn add_edge(
        &mut self,
        from: &str,
        to: &str,
        weight: f64,
        columns: Map<String, Value>,
        symmetry: Option<f64>,
    ) -> usize {
        let (a, b) = (self.account(from), self.account(to));
        self.edges.push(EdgeAcc {
            a,
            b,
            weight,
            columns,
            symmetry,
            listed: Vec::new(),
            total: 0,
            deltas: BTreeMap::new(),
            first_ms: i64::MAX,
            last_ms: i64::MIN,
        });
        self.edges.len() - 1
    }

    /// Sets the number of posts `account` has in the input (the
    /// denominator of `coordinated_share`).
    pub fn set_account_posts(&mut self, account: &str, posts: u64) {
        let i = self.account(account);
        self.account_posts[i as usize] = posts;
    }

    /// Adds one evidence pair to `edge`.
    pub fn add_pair(&mut self, edge: usize, pair: EvidencePair) {
        for p in [&pair.post, &pair.post_y] {
            let a = self.account(&p.account);
            self.coordinated[a as usize]
                .entry(p.id.clone())
                .or_insert_with(|| (p.platform.clone(), p.lang.clone()));
        }
        let e = &mut self.edges[edge];
        e.total += 1;
        let d = (pair.post_y.time_ms - pair.post.time_ms).abs();
        *e.deltas.entry(d).or_insert(0) += 1;
        e.first_ms = e.first_ms.min(pair.post.time_ms.min(pair.post_y.time_ms));
        e.last_ms = e.last_ms.max(pair.post.time_ms.max(pair.post_y.time_ms));
        if e.listed.len() < self.opts.max_evidence_per_edge {
            e.listed.push(pair);
        }
    }

    /// Communities, components and scores.
    pub fn finish(self, parameters: Value) -> CoordinationReport {
        let n = self.accounts.len();
        let graph = Graph::from_edges(n, self.edges.iter().map(|e| (e.a, e.b, e.weight)));
        let communities = leiden(&graph, &self.opts.leiden);
        let components = connected_components(&graph);
        let q = modularity(&graph, &communities.membership, self.opts.leiden.resolution);
        let net = |kind: &str, p: &Partition| -> Vec<NetworkReport> {
            let members = p.members();
            let mut edges_of: Vec<Vec<usize>> = vec![Vec::new(); p.count];
            for (i, e) in self.edges.iter().enumerate() {
                let c = p.membership[e.a as usize];
                if c == p.membership[e.b as usize] {
                    edges_of[c as usize].push(i);
                }
            }
            members
                .iter()
                .zip(&edges_of)
                .enumerate()
                .map(|(id, (m, es))| self.network(kind, id as u32, m, es))
                .collect()
        };
        let community_reports = net("community", &communities);
        let component_reports = net("component", &components);
        let accounts = (0..n)
            .map(|v| AccountReport {
                account: self.accounts[v].clone(),
                community: communities.membership[v],
                component: components.membership[v],
                degree: graph.degree(v as u32),
                strength: graph.strength(v as u32),
                posts: self.account_posts[v].max(self.coordinated[v].len() as u64),
                coordinated_posts: self.coordinated[v].len() as u64,
            })
            .collect();
        let evidence_pairs = self.edges.iter().map(|e| e.total).sum();
        let edges = self
            .edges
            .into_iter()
            .map(|e| {
                let (ca, cb) = (
                    communities.membership[e.a as usize],
                    communities.membership[e.b as usize],
                );
                EdgeReport {
                    from: self.accounts[e.a as usize].clone(),
                    to: self.accounts[e.b as usize].clone(),
                    weight: e.weight,
                    columns: e.columns,
                    community: (ca == cb).then_some(ca),
                    component: components.membership[e.a as usize],
                    evidence_total: e.total,
                    evidence: e.listed,
                }
            })
            .collect::<Vec<_>>();
        CoordinationReport {
            method: self.method,
            directed: self.directed,
            parameters,
            summary: Summary {
                accounts: n,
                edges: edges.len(),
                evidence_pairs,
                communities: communities.count,
                components: components.count,
                modularity: q.is_finite().then_some(q),
                resolution: self.opts.leiden.resolution,
                seed: self.opts.leiden.seed,
            },
            communities: community_reports,
            components: component_reports,
            accounts,
            edges,
        }
    }

    fn network(&self, kind: &str, id: u32, members: &[u32], edges: &[usize]) -> NetworkReport {
        let n = members.len() as f64;
        let possible = if self.directed {
            n * (n - 1.0)
        } else {
            n * (n - 1.0) / 2.0
        };
        let mut deltas: BTreeMap<i64, u64> = BTreeMap::new();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        let mut evidence = Vec::new();
        let mut total = 0u64;
        for &i in edges {
            let e = &self.edges[i];
            for (&d, &c) in &e.deltas {
                *deltas.entry(d).or_insert(0) += c;
            }
            first = first.min(e.first_ms);
            last = last.max(e.last_ms);
            total += e.total;
            for p in &e.listed {
                if evidence.len() < self.opts.max_evidence_per_network {
                    evidence.push(p.clone());
                }
            }
        }
        let edge_symmetry = if self.directed {
            let present: HashMap<(u32, u32), f64> = edges
                .iter()
                .map(|&i| ((self.edges[i].a, self.edges[i].b), self.edges[i].weight))
                .collect();
            let all: f64 = present.values().sum();
            let rec: f64 = present
                .iter()
                .filter(|((a, b), _)| present.contains_key(&(*b, *a)))
                .map(|(_, w)| w)
                .sum();
            (all > 0.0).then(|| rec / all)
        } else {
            let s: Vec<f64> = edges
                .iter()
                .filter_map(|&i| self.edges[i].symmetry)
                .collect();
            (!s.is_empty()).then(|| s.iter().sum::<f64>() / s.len() as f64)
        };
        let mut platforms: HashMap<String, u64> = HashMap::new();
        let mut languages: HashMap<String, u64> = HashMap::new();
        let (mut coordinated, mut posts) = (0u64, 0u64);
        for &m in members {
            let c = &self.coordinated[m as usize];
            coordinated += c.len() as u64;
            posts += self.account_posts[m as usize].max(c.len() as u64);
            for (platform, lang) in c.values() {
                if let Some(p) = platform {
                    *platforms.entry(p.clone()).or_insert(0) += 1;
                }
                if let Some(l) = lang {
                    *languages.entry(l.clone()).or_insert(0) += 1;
                }
            }
        }
        let mut names: Vec<String> = members
            .iter()
            .map(|&m| self.accounts[m as usize].clone())
            .collect();
        names.sort_unstable();
        let time = |ms: i64| EventTime::from_millis(ms).to_rfc3339();
        NetworkReport {
            kind: kind.to_string(),
            id,
            accounts: members.len(),
            edges: edges.len(),
            weight: edges.iter().map(|&i| self.edges[i].weight).sum(),
            density: if possible > 0.0 {
                edges.len() as f64 / possible
            } else {
                0.0
            },
            median_time_delta: median(&deltas).map(|ms| ms / 1000.0),
            edge_symmetry,
            coordinated_posts: coordinated,
            member_posts: posts,
            coordinated_share: (posts > 0).then(|| coordinated as f64 / posts as f64),
            platforms: counts(platforms),
            languages: counts(languages),
            first_activity: (first != i64::MAX).then(|| time(first)),
            last_activity: (last != i64::MIN).then(|| time(last)),
            members: names,
            evidence_left_out: total - evidence.len() as u64,
            evidence,
            layers: Vec::new(),
            template: None,
        }
    }
}

fn counts(m: HashMap<String, u64>) -> Vec<Count> {
    let mut v: Vec<Count> = m
        .into_iter()
        .map(|(value, count)| Count { value, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    v
}

/// Median of a multiset given as value → count (mean of the two middle
/// values when the count is even).
fn median(d: &BTreeMap<i64, u64>) -> Option<f64> {
    let n: u64 = d.values().sum();
    if n == 0 {
        return None;
    }
    let at = |k: u64| {
        let mut seen = 0;
        for (&v, &c) in d {
            seen += c;
            if seen > k {
                return v as f64;
            }
        }
        unreachable!("k < n")
    };
    Some(if n % 2 == 1 {
        at(n / 2)
    } else {
        (at(n / 2 - 1) + at(n / 2)) / 2.0
    })
}

/// The report of a CooRTweet network.
///
/// Enumerates the pairs again (`detection.run`, which is repeatable) and
/// files each pair under its edge of `net` (pairs of edges not in `net`, a
/// subgraph, are left out). `posts` adds text, links, platform and language
/// (CooRTweet's `content_id` is the post id) and the members' post counts;
/// without it the counts are the accounts' distinct content ids in `table`.
pub fn coortweet_report(
    table: &ShareTable,
    detection: &mut Coordination<'_>,
    net: &Network,
    posts: Option<&PostIndex>,
    opts: &ReportOptions,
    parameters: Value,
) -> io::Result<CoordinationReport> {
    let mut b = ReportBuilder::new("coortweet", false, opts);
    let name = |id: &[u8]| String::from_utf8_lossy(id).into_owned();
    let mut index: HashMap<(u32, u32), usize> = HashMap::new();
    for e in &net.edges {
        let mut columns = Map::new();
        let f = &e.full;
        let stats = |m: &mut Map<String, Value>, suffix: &str, s: &super::network::EdgeStats| {
            m.insert(format!("avg_time_delta{suffix}"), real(s.avg_time_delta));
            m.insert(format!("n_content_id{suffix}"), s.n_content_id.into());
            m.insert(format!("n_content_id_y{suffix}"), s.n_content_id_y.into());
            m.insert(
                format!("edge_symmetry_score{suffix}"),
                real(s.edge_symmetry_score),
            );
        };
        if net.fast_net {
            stats(&mut columns, "_full", f);
            columns.insert("weight_threshold_full".into(), e.weight_threshold.into());
            if let Some(g) = &e.fast {
                columns.insert("weight_fast".into(), g.weight.into());
                stats(&mut columns, "_fast", g);
            }
            if let Some(t) = e.weight_threshold_fast {
                columns.insert("weight_threshold_fast".into(), t.into());
            }
        } else {
            stats(&mut columns, "", f);
            columns.insert("weight_threshold".into(), e.weight_threshold.into());
        }
        let i = b.add_edge(
            &name(table.account_name(e.from)),
            &name(table.account_name(e.to)),
            f.weight as f64,
            columns,
            Some(f.edge_symmetry_score),
        );
        index.insert((e.from.min(e.to), e.from.max(e.to)), i);
    }
    // Denominators: posts per account.
    let shares = table.shares();
    let mut distinct: HashMap<u32, std::collections::HashSet<&[u8]>> = HashMap::new();
    let members: std::collections::HashSet<u32> =
        net.edges.iter().flat_map(|e| [e.from, e.to]).collect();
    for s in shares {
        if members.contains(&s.account) {
            distinct
                .entry(s.account)
                .or_default()
                .insert(table.content_name(s.content));
        }
    }
    for (&a, set) in &distinct {
        let acc = name(table.account_name(a));
        let n = posts.map_or(set.len() as u64, |p| p.account_posts(&acc));
        b.set_account_posts(&acc, n);
    }
    let post = |content: u32, account: u32| {
        let id = name(table.content_name(content));
        let acc = name(table.account_name(account));
        let ms = shares[content as usize].time_secs * 1000;
        match posts {
            Some(p) => p.lookup(&id, &acc, ms),
            None => EvidencePost::bare(&id, &acc, ms),
        }
    };
    let mut sink = |p: &Pair| {
        let key = (p.account.min(p.account_y), p.account.max(p.account_y));
        if let Some(&i) = index.get(&key) {
            b.add_pair(
                i,
                EvidencePair {
                    object: Some(name(table.object_name(p.object))),
                    post: post(p.content, p.account),
                    post_y: post(p.content_y, p.account_y),
                    time_delta: p.time_delta as f64,
                },
            );
        }
        Ok(())
    };
    detection.run(Some(&mut sink))?;
    Ok(b.finish(parameters))
}

fn real(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Where a directed report finds the messages behind an edge.
pub enum DirectedSource<'a> {
    /// Canonical posts (the store, importer formats), in input order.
    Posts(&'a [Post]),
    /// The rows of a QUT table.
    Qut(&'a QutRows),
    /// Only the message table: each edge's evidence is searched in the
    /// whole table ([`edge_evidence`]), a pass over the table per edge.
    Table,
}

/// The rows of a QUT CSV kept in memory for evidence
/// (`message_id,user_id,username,repost_id,reply_id,message,timestamp,urls`).
pub struct QutRows {
    header: csv::ByteRecord,
    rows: Vec<csv::ByteRecord>,
    /// Rows of each message owner (the user of a message id's first row,
    /// as [`MessageTable`] files repeated ids), in input order.
    by_user: HashMap<String, Vec<usize>>,
    posts: PostIndex,
}

impl QutRows {
    /// Reads a QUT CSV (`.gz` decompressed).
    pub fn read_path(path: &Path) -> io::Result<QutRows> {
        let f = std::fs::File::open(path)?;
        let r = io::BufReader::new(f);
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        {
            QutRows::read(flate2::read::MultiGzDecoder::new(r))
        } else {
            QutRows::read(r)
        }
    }

    pub fn read<R: Read>(reader: R) -> io::Result<QutRows> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header = rdr.byte_headers().map_err(io::Error::other)?.clone();
        let col = |name: &str| {
            header.iter().position(|h| {
                let h = h.strip_prefix(b"\xef\xbb\xbf").unwrap_or(h);
                h.trim_ascii().eq_ignore_ascii_case(name.as_bytes())
            })
        };
        let (Some(id_c), Some(user_c), Some(time_c)) =
            (col("message_id"), col("user_id"), col("timestamp"))
        else {
            return Err(io::Error::other(
                "a QUT table needs message_id, user_id and timestamp columns",
            ));
        };
        let (text_c, urls_c) = (col("message"), col("urls"));
        let mut rows = Vec::new();
        let mut by_user: HashMap<String, Vec<usize>> = HashMap::new();
        let mut owner: HashMap<Vec<u8>, String> = HashMap::new();
        let mut posts = PostIndex::new();
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).map_err(io::Error::other)? {
            let f = |c: usize| String::from_utf8_lossy(rec.get(c).unwrap_or(b"")).into_owned();
            let id = f(id_c);
            let user = owner
                .entry(id.as_bytes().to_vec())
                .or_insert_with(|| f(user_c))
                .clone();
            let ms = f(time_c)
                .trim()
                .parse::<f64>()
                .map_or(0, |s| (s * 1000.0).round() as i64);
            let mut p = EvidencePost::bare(&id, &user, ms);
            p.text = text_c.map(f).filter(|t| !t.is_empty());
            p.link = urls_c.and_then(|c| f(c).split(' ').find(|u| !u.is_empty()).map(String::from));
            posts.insert(id, p);
            by_user.entry(user).or_default().push(rows.len());
            rows.push(rec.clone());
        }
        Ok(QutRows {
            header,
            rows,
            by_user,
            posts,
        })
    }

    /// The message table of `kind` over the rows of two users.
    fn pair_table(&self, kind: Kind, u: &str, v: &str) -> MessageTable {
        let none = Vec::new();
        let (a, b) = (
            self.by_user.get(u).unwrap_or(&none),
            self.by_user.get(v).unwrap_or(&none),
        );
        let mut rows: Vec<usize> = a.iter().chain(b).copied().collect();
        rows.sort_unstable();
        rows.dedup();
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_byte_record(&self.header);
        for r in rows {
            let _ = w.write_byte_record(&self.rows[r]);
        }
        let bytes = w.into_inner().unwrap_or_default();
        read_qut(bytes.as_slice(), "evidence", kind).unwrap_or_else(|_| MessageTable::new(kind))
    }

    /// The rows as evidence posts (by message id) and per-user row counts.
    pub fn posts(&self) -> &PostIndex {
        &self.posts
    }
}

/// The report of a directed network.
///
/// The evidence of each edge is recomputed on the messages of its two
/// accounts only (their rows, or posts, in input order), which gives the
/// same pairs as [`edge_evidence`] on the whole table at the cost of the two
/// accounts' messages; `posts` adds text, links, platform and language
/// (keyed by the table's message ids: `platform:id` for posts, the
/// `message_id` of a QUT table) and the members' post counts.
pub fn directed_report(
    table: &MessageTable,
    params: &DirectedParams,
    net: &DirectedNetwork,
    source: &DirectedSource<'_>,
    posts: Option<&PostIndex>,
    opts: &ReportOptions,
    parameters: Value,
) -> CoordinationReport {
    let kind = table.kind();
    // Posts by owner, for pair tables.
    let mut post_rows: HashMap<&str, Vec<usize>> = HashMap::new();
    if let DirectedSource::Posts(ps) = source {
        let mut owner: HashMap<String, &str> = HashMap::new();
        for (i, p) in ps.iter().enumerate() {
            let id = format!("{}:{}", p.platform, p.id);
            let o = *owner.entry(id).or_insert(p.actor.id.as_str());
            post_rows.entry(o).or_default().push(i);
        }
    }
    let pair_table = |u: &str, v: &str| -> Option<MessageTable> {
        match source {
            DirectedSource::Posts(ps) => {
                let none = Vec::new();
                let mut rows: Vec<usize> = post_rows
                    .get(u)
                    .unwrap_or(&none)
                    .iter()
                    .chain(post_rows.get(v).unwrap_or(&none))
                    .copied()
                    .collect();
                rows.sort_unstable();
                rows.dedup();
                Some(MessageTable::from_posts(rows.iter().map(|&r| &ps[r]), kind))
            }
            DirectedSource::Qut(q) => Some(q.pair_table(kind, u, v)),
            DirectedSource::Table => None,
        }
    };
    // One table per unordered account pair serves both directions.
    let mut groups: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
    for (i, e) in net.edges.iter().enumerate() {
        groups
            .entry((e.user_1.min(e.user_2), e.user_1.max(e.user_2)))
            .or_default()
            .push(i);
    }
    let groups: Vec<((u32, u32), Vec<usize>)> = groups.into_iter().collect();
    let found: Vec<Vec<(usize, Vec<EdgeEvidence>)>> = groups
        .par_iter()
        .map(|((a, b), edges)| {
            let (ua, ub) = (&net.users[*a as usize], &net.users[*b as usize]);
            let local = pair_table(ua, ub);
            let t = local.as_ref().unwrap_or(table);
            edges
                .iter()
                .map(|&i| {
                    let e = net.edges[i];
                    let (u, v) = (&net.users[e.user_1 as usize], &net.users[e.user_2 as usize]);
                    (i, edge_evidence(t, params, u, v))
                })
                .collect()
        })
        .collect();
    let mut evidence: Vec<Vec<EdgeEvidence>> = vec![Vec::new(); net.edges.len()];
    for (i, ev) in found.into_iter().flatten() {
        evidence[i] = ev;
    }

    let mut b = ReportBuilder::new("directed", true, opts);
    let mut ids = Vec::with_capacity(net.edges.len());
    for e in &net.edges {
        let mut columns = Map::new();
        columns.insert("kind".into(), kind.name().into());
        let (u, v) = (&net.users[e.user_1 as usize], &net.users[e.user_2 as usize]);
        ids.push(b.add_edge(u, v, e.weight, columns, None));
    }
    let lookup = |id: &str, account: &str, ms: i64| match posts {
        Some(p) => p.lookup(id, account, ms),
        None => EvidencePost::bare(id, account, ms),
    };
    for (k, e) in net.edges.iter().enumerate() {
        let (u, v) = (&net.users[e.user_1 as usize], &net.users[e.user_2 as usize]);
        for ev in &evidence[k] {
            b.add_pair(
                ids[k],
                EvidencePair {
                    object: None,
                    post: lookup(&ev.message_1, u, ev.time_ms_1),
                    post_y: lookup(&ev.message_2, v, ev.time_ms_2),
                    time_delta: (ev.time_ms_2 - ev.time_ms_1).abs() as f64 / 1000.0,
                },
            );
        }
    }
    // Denominators: posts per member (keyed messages when nothing else is known).
    let mut keyed: HashMap<&str, u64> = HashMap::new();
    if posts.is_none() {
        for m in 0..table.len() as u32 {
            *keyed
                .entry(table.user_name(table.message(m).0))
                .or_insert(0) += 1;
        }
    }
    for u in &net.users {
        let n = match posts {
            Some(p) => p.account_posts(u),
            None => keyed.get(u.as_str()).copied().unwrap_or(0),
        };
        b.set_account_posts(u, n);
    }
    b.finish(parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_counts() {
        let m: BTreeMap<i64, u64> = [(1, 1), (5, 2), (9, 1)].into_iter().collect();
        assert_eq!(median(&m), Some(5.0));
        let m: BTreeMap<i64, u64> = [(2, 1), (4, 1)].into_iter().collect();
        assert_eq!(median(&m), Some(3.0));
        assert_eq!(median(&BTreeMap::new()), None);
    }
}
