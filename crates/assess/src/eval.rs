//! Evaluation against a simulated scenario's ground truth
//! (`pharos simulate` writes `FILE.truth.json`).
//!
//! Two views, both over **accounts** (actor ids) and **posts** (post ids;
//! the truth's `posts`, the campaigns' coordinated posts — cover posts are
//! not campaign posts):
//!
//! - **overall**: everything any incident holds against everything any
//!   campaign planted. Precision = share of the incidents' accounts (posts)
//!   that are campaign accounts (posts); recall = share of the campaigns'
//!   accounts (posts) that are in some incident.
//! - **per campaign**: the incident holding most of the campaign's posts;
//!   recall = share of the campaign's accounts (posts) in it, precision =
//!   share of its accounts (posts) that are the campaign's.
//!
//! Ids are compared without the platform (the simulator's ids are unique
//! across platforms). A network of channels sharing one template (the
//! truth's `template_networks`, DISARM T0092) counts as a campaign of kind
//! `template-network`: its accounts and its signed posts.

use crate::incident::Incident;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The parts of a truth file the evaluation reads.
#[derive(Clone, Debug, Deserialize)]
pub struct TruthFile {
    pub campaigns: Vec<TruthCampaign>,
    #[serde(default)]
    pub template_networks: Vec<TruthTemplateNetwork>,
}

/// Channels sharing one footer (one operator).
#[derive(Clone, Debug, Deserialize)]
pub struct TruthTemplateNetwork {
    pub footer: String,
    pub accounts: Vec<String>,
    /// Their posts signed with the footer.
    #[serde(default)]
    pub posts: Vec<String>,
}

impl TruthFile {
    /// The campaigns and the template networks (as campaigns of kind
    /// `template-network`, ids `tN-template-network`).
    pub fn all_campaigns(&self) -> Vec<TruthCampaign> {
        let mut out = self.campaigns.clone();
        for (i, t) in self.template_networks.iter().enumerate() {
            out.push(TruthCampaign {
                id: format!("t{}-template-network", i + 1),
                kind: "template-network".into(),
                accounts: t.accounts.clone(),
                posts: t.posts.clone(),
                cover_posts: Vec::new(),
            });
        }
        out
    }
}

/// One planted campaign.
#[derive(Clone, Debug, Deserialize)]
pub struct TruthCampaign {
    pub id: String,
    pub kind: String,
    pub accounts: Vec<String>,
    pub posts: Vec<String>,
    #[serde(default)]
    pub cover_posts: Vec<String>,
}

/// Precision and recall of one set against another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PrecisionRecall {
    pub precision: f64,
    pub recall: f64,
    /// Found and true.
    pub hits: usize,
    /// Found.
    pub found: usize,
    /// True.
    pub truth: usize,
}

impl PrecisionRecall {
    pub fn of(found: &HashSet<&str>, truth: &HashSet<&str>) -> Self {
        let hits = found.intersection(truth).count();
        PrecisionRecall {
            precision: if found.is_empty() {
                0.0
            } else {
                hits as f64 / found.len() as f64
            },
            recall: if truth.is_empty() {
                0.0
            } else {
                hits as f64 / truth.len() as f64
            },
            hits,
            found: found.len(),
            truth: truth.len(),
        }
    }
    pub fn f1(&self) -> f64 {
        if self.precision + self.recall == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        }
    }
}

/// One campaign's best incident.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignResult {
    pub campaign: String,
    pub kind: String,
    /// The incident holding most of its posts (none when no incident does).
    pub incident: Option<String>,
    pub accounts: PrecisionRecall,
    pub posts: PrecisionRecall,
}

/// The evaluation of a set of incidents.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub incidents: usize,
    pub campaigns: usize,
    /// Campaigns with an incident holding at least half their posts.
    pub campaigns_found: usize,
    pub accounts: PrecisionRecall,
    pub posts: PrecisionRecall,
    pub per_campaign: Vec<CampaignResult>,
}

fn bare(key: &str) -> &str {
    key.split_once(':').map_or(key, |(_, id)| id)
}

/// Scores `incidents` against `truth`.
pub fn evaluate(incidents: &[Incident], truth: &TruthFile) -> Evaluation {
    let campaigns = truth.all_campaigns();
    let inc_accounts: Vec<HashSet<&str>> = incidents
        .iter()
        .map(|i| i.actors.iter().map(|a| a.actor_id.as_str()).collect())
        .collect();
    let inc_posts: Vec<HashSet<&str>> = incidents
        .iter()
        .map(|i| i.posts.iter().map(|p| bare(p)).collect())
        .collect();
    let all_found_a: HashSet<&str> = inc_accounts.iter().flatten().copied().collect();
    let all_found_p: HashSet<&str> = inc_posts.iter().flatten().copied().collect();
    let all_true_a: HashSet<&str> = campaigns
        .iter()
        .flat_map(|c| c.accounts.iter().map(String::as_str))
        .collect();
    let all_true_p: HashSet<&str> = campaigns
        .iter()
        .flat_map(|c| c.posts.iter().map(String::as_str))
        .collect();
    let mut per_campaign = Vec::new();
    let mut found = 0;
    for c in &campaigns {
        let ta: HashSet<&str> = c.accounts.iter().map(String::as_str).collect();
        let tp: HashSet<&str> = c.posts.iter().map(String::as_str).collect();
        let best = inc_posts
            .iter()
            .enumerate()
            .map(|(k, ps)| (ps.intersection(&tp).count(), k))
            .filter(|&(n, _)| n > 0)
            .max_by_key(|&(n, k)| (n, std::cmp::Reverse(k)));
        let (incident, accounts, posts) = match best {
            Some((_, k)) => (
                Some(incidents[k].id.clone()),
                PrecisionRecall::of(&inc_accounts[k], &ta),
                PrecisionRecall::of(&inc_posts[k], &tp),
            ),
            None => (
                None,
                PrecisionRecall::of(&HashSet::new(), &ta),
                PrecisionRecall::of(&HashSet::new(), &tp),
            ),
        };
        if posts.recall >= 0.5 {
            found += 1;
        }
        per_campaign.push(CampaignResult {
            campaign: c.id.clone(),
            kind: c.kind.clone(),
            incident,
            accounts,
            posts,
        });
    }
    Evaluation {
        incidents: incidents.len(),
        campaigns: campaigns.len(),
        campaigns_found: found,
        accounts: PrecisionRecall::of(&all_found_a, &all_true_a),
        posts: PrecisionRecall::of(&all_found_p, &all_true_p),
        per_campaign,
    }
}
