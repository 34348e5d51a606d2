//! Where a narrative spreads: platforms, languages, the accounts and
//! channels carrying it, and the coordination networks among those accounts.

use super::scan::NarrativePost;
use pharos_analysis::coordination::{Coordination, CoortweetParams, ShareTable};
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How many accounts, domains, hashtags ... a pack lists.
pub const TOP: usize = 10;

/// Coordination inside a narrative: two accounts are linked when they share
/// the same object (a reshared post, a link, or a near-duplicate text)
/// within this many seconds of each other ...
pub const COORDINATION_WINDOW_S: i64 = 60;
/// ... at least this many times (distinct objects); networks are the
/// connected groups of linked accounts, of at least [`MIN_NETWORK`] accounts.
pub const MIN_CO_SHARES: u64 = 2;
pub const MIN_NETWORK: usize = 3;

/// A key and how many posts have it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub key: String,
    pub posts: u64,
}

/// An account carrying the narrative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub platform: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// Its posts in the narrative.
    pub posts: u64,
    /// Its reach proxy: followers, else the engagement its posts received.
    pub reach: u64,
}

/// A coordination network inside the narrative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSummary {
    /// `net-1`, `net-2`, ... largest first (numbered within this pack).
    pub id: String,
    pub accounts: Vec<String>,
    /// Linked pairs of accounts, and the co-shares behind them.
    pub links: u64,
    pub co_shares: u64,
    /// The narrative's posts by these accounts, and their share of all its posts.
    pub posts: u64,
    pub share_of_posts: f64,
    pub platforms: Vec<String>,
}

/// Where it spreads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub posts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<EventTime>,
    pub accounts: u64,
    pub platforms: Vec<Count>,
    /// `und` = no language.
    pub languages: Vec<Count>,
    /// Accounts with the most posts in the narrative.
    pub top_accounts: Vec<Account>,
    /// Accounts whose posts reach the most people (followers, else engagement).
    pub top_reach: Vec<Account>,
    /// Channels: where its links point (domains) ...
    pub domains: Vec<Count>,
    /// ... the hashtags that carry it ...
    pub hashtags: Vec<Count>,
    /// ... and the posts most reshared or quoted within it (`platform:id`).
    pub reshared: Vec<Count>,
    /// Coordination networks among its accounts (may be empty).
    pub networks: Vec<NetworkSummary>,
    /// Posts by accounts in a coordination network, as a share of all.
    pub coordinated_share: f64,
}

fn top(map: HashMap<String, u64>, k: usize) -> Vec<Count> {
    let mut v: Vec<Count> = map
        .into_iter()
        .map(|(key, posts)| Count { key, posts })
        .collect();
    v.sort_by(|a, b| b.posts.cmp(&a.posts).then(a.key.cmp(&b.key)));
    v.truncate(k);
    v
}

/// The spread of a set of posts (a narrative's, or one post's narrative).
pub fn spread(posts: &[NarrativePost]) -> Spread {
    let mut s = Spread {
        posts: posts.len() as u64,
        ..Spread::default()
    };
    let mut platforms = HashMap::new();
    let mut languages = HashMap::new();
    let mut domains = HashMap::new();
    let mut hashtags = HashMap::new();
    let mut reshared = HashMap::new();
    let mut accounts: HashMap<(String, String), Account> = HashMap::new();
    for np in posts {
        let p = &np.post;
        s.first_seen = Some(s.first_seen.map_or(p.time, |t| t.min(p.time)));
        s.last_seen = Some(s.last_seen.map_or(p.time, |t| t.max(p.time)));
        *platforms.entry(p.platform.clone()).or_default() += 1;
        *languages
            .entry(p.lang.clone().unwrap_or_else(|| "und".into()))
            .or_default() += 1;
        for d in &p.domains {
            *domains.entry(d.clone()).or_default() += 1;
        }
        for h in &p.hashtags {
            *hashtags.entry(h.clone()).or_default() += 1;
        }
        for t in [&p.reshare_of, &p.quote_of].into_iter().flatten() {
            *reshared.entry(format!("{}:{}", p.platform, t)).or_default() += 1;
        }
        let engagement = p.engagement.likes.unwrap_or(0)
            + p.engagement.reshares.unwrap_or(0)
            + p.engagement.replies.unwrap_or(0);
        let a = accounts
            .entry((p.platform.clone(), p.actor.id.clone()))
            .or_insert_with(|| Account {
                platform: p.platform.clone(),
                id: p.actor.id.clone(),
                handle: p.actor.handle.clone(),
                name: p.actor.name.clone(),
                followers: p.actor.followers,
                posts: 0,
                reach: 0,
            });
        a.posts += 1;
        if a.followers.is_none() {
            a.followers = p.actor.followers;
        }
        a.reach = match a.followers {
            Some(f) => f,
            None => a.reach + engagement,
        };
    }
    s.accounts = accounts.len() as u64;
    s.platforms = top(platforms, usize::MAX);
    s.languages = top(languages, usize::MAX);
    s.domains = top(domains, TOP);
    s.hashtags = top(hashtags, TOP);
    s.reshared = top(reshared, TOP);
    let mut accs: Vec<Account> = accounts.into_values().collect();
    accs.sort_by(|a, b| {
        b.posts
            .cmp(&a.posts)
            .then(b.reach.cmp(&a.reach))
            .then(a.id.cmp(&b.id))
    });
    s.top_accounts = accs.iter().take(TOP).cloned().collect();
    accs.sort_by(|a, b| {
        b.reach
            .cmp(&a.reach)
            .then(b.posts.cmp(&a.posts))
            .then(a.id.cmp(&b.id))
    });
    s.top_reach = accs
        .iter()
        .filter(|a| a.reach > 0)
        .take(TOP)
        .cloned()
        .collect();
    s.networks = networks(posts);
    let in_net: u64 = s.networks.iter().map(|n| n.posts).sum();
    s.coordinated_share = if s.posts > 0 {
        in_net as f64 / s.posts as f64
    } else {
        0.0
    };
    s
}

/// Coordination networks among the accounts of `posts` (CooRTweet's pairing
/// over reshared posts, links and near-duplicate families; see the constants).
fn networks(posts: &[NarrativePost]) -> Vec<NetworkSummary> {
    let mut table = ShareTable::with_capacity(posts.len() * 2);
    for np in posts {
        let p = &np.post;
        let account = format!("{}:{}", p.platform, p.actor.id);
        let content = format!("{}:{}", p.platform, p.id);
        let t = p.time.secs();
        if let Some(r) = &p.reshare_of {
            table.push(
                &format!("reshare:{}:{r}", p.platform),
                &account,
                &content,
                t,
            );
        }
        for l in &p.links {
            if !l.url.is_empty() {
                table.push(&format!("url:{}", l.url), &account, &content, t);
            }
        }
        if let Some(f) = np.family {
            table.push(&format!("family:{f}"), &account, &content, t);
        }
    }
    if table.is_empty() {
        return Vec::new();
    }
    let params = CoortweetParams {
        time_window: COORDINATION_WINDOW_S,
        min_participation: 2,
        ..CoortweetParams::default()
    };
    let Ok(mut run) = Coordination::new(&table, &params) else {
        return Vec::new();
    };
    let (_, edges) = run.pairs();
    let Ok(net) = edges.network(0.0, pharos_analysis::coordination::Subgraph::Full) else {
        return Vec::new();
    };
    // Union-find over the strong links.
    let mut parent: HashMap<u32, u32> = HashMap::new();
    fn find(parent: &mut HashMap<u32, u32>, x: u32) -> u32 {
        let p = *parent.entry(x).or_insert(x);
        if p == x {
            return x;
        }
        let r = find(parent, p);
        parent.insert(x, r);
        r
    }
    let strong: Vec<_> = net
        .edges
        .iter()
        .filter(|e| e.full.weight >= MIN_CO_SHARES)
        .collect();
    for e in &strong {
        let (a, b) = (find(&mut parent, e.from), find(&mut parent, e.to));
        if a != b {
            parent.insert(a.max(b), a.min(b));
        }
    }
    let mut groups: BTreeMap<u32, (Vec<u32>, u64, u64)> = BTreeMap::new();
    let nodes: Vec<u32> = parent.keys().copied().collect();
    for n in nodes {
        let r = find(&mut parent, n);
        groups.entry(r).or_default().0.push(n);
    }
    for e in &strong {
        let r = find(&mut parent, e.from);
        let g = groups.get_mut(&r).expect("grouped above");
        g.1 += 1;
        g.2 += e.full.weight;
    }
    let mut posts_by_account: HashMap<String, u64> = HashMap::new();
    for np in posts {
        *posts_by_account
            .entry(format!("{}:{}", np.post.platform, np.post.actor.id))
            .or_default() += 1;
    }
    let total = posts.len().max(1) as f64;
    let mut out: Vec<NetworkSummary> = groups
        .into_values()
        .filter(|(members, _, _)| members.len() >= MIN_NETWORK)
        .map(|(members, links, co_shares)| {
            let mut accounts: Vec<String> = members
                .iter()
                .map(|&m| String::from_utf8_lossy(table.account_name(m)).into_owned())
                .collect();
            accounts.sort();
            let posts: u64 = accounts
                .iter()
                .map(|a| posts_by_account.get(a).copied().unwrap_or(0))
                .sum();
            let mut platforms: Vec<String> = accounts
                .iter()
                .filter_map(|a| a.split(':').next().map(str::to_string))
                .collect();
            platforms.sort();
            platforms.dedup();
            NetworkSummary {
                id: String::new(),
                accounts,
                links,
                co_shares,
                posts,
                share_of_posts: posts as f64 / total,
                platforms,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.accounts
            .len()
            .cmp(&a.accounts.len())
            .then(b.posts.cmp(&a.posts))
            .then(a.accounts.cmp(&b.accounts))
    });
    for (i, n) in out.iter_mut().enumerate() {
        n.id = format!("net-{}", i + 1);
    }
    out
}
