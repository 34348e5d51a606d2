//! Response tracking: responses logged against narratives, and what the
//! narrative did before and after each.
//!
//! Responses live in the store component `responses` (one row each: the
//! narrative id, a post of the narrative when it was logged — its anchor,
//! so the narrative can be found again if ids shift — who, when, channel,
//! URL, partner, note).
//!
//! The report compares, for each response at time `t`, the window
//! `[t − W, t)` with `[t, t + W)` (default `W` = 24 h; the after window is
//! cut at the latest post in the store): posts, posts an hour, platforms,
//! languages, distinct accounts and **new accounts** (accounts whose first
//! post in the narrative falls in the window), per hour and as a share.
//!
//! **Trend**: posts an hour after ÷ before: at most 0.67 `declined`, at
//! least 1.5 `grew`, else `flat`.
//!
//! **Resurgence** (the rule): after the response, the time up to the latest
//! post is cut into 6-hour blocks. A block is *quiet* when it holds at most
//! half the posts the before-window rate gives for 6 hours. The narrative
//! *resurges* when, after a quiet block, a later block reaches the
//! before-window rate again (and holds at least 5 posts), or a burst of the
//! narrative opens after a quiet block. A narrative is flagged when its
//! latest response is followed by a resurgence.

use super::RespondError;
use super::scan::{self, NarrativePost};
use super::spread::Count;
use pharos_analysis::bursts::Alert;
use pharos_core::EventTime;
use pharos_store::{ResponseRecord, Responses, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

const HOUR_MS: i64 = 3_600_000;
/// Block length for the resurgence rule.
pub const BLOCK_H: i64 = 6;
/// A resurging block holds at least this many posts.
pub const MIN_RESURGENCE_POSTS: u64 = 5;

/// A logged response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: i64,
    pub narrative: u64,
    /// `platform:id` of a post of the narrative when the response was logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub who: String,
    pub at: EventTime,
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub logged_at: EventTime,
}

/// A response to log.
#[derive(Debug, Clone, Default)]
pub struct NewResponse {
    pub narrative: u64,
    pub who: String,
    pub at: EventTime,
    pub channel: String,
    pub url: Option<String>,
    pub partner: Option<String>,
    pub note: Option<String>,
}

/// Logs a response against a narrative (which must be in the store).
pub fn log(
    store: &mut (impl Store + Responses),
    new: NewResponse,
    progress: &mut dyn FnMut(u64),
) -> Result<Response, RespondError> {
    for (name, v) in [("who", &new.who), ("channel", &new.channel)] {
        if v.trim().is_empty() {
            return Err(RespondError::Invalid(format!("--{name} must not be empty")));
        }
    }
    let wanted: HashSet<u64> = [new.narrative].into();
    let mut s = scan::scan(store, &wanted, None, progress)?;
    let posts = s.posts.remove(&new.narrative).ok_or_else(|| {
        RespondError::NotFound(format!(
            "no narrative {} in the store {} (`pharos narratives` lists them)",
            new.narrative,
            store.location()
        ))
    })?;
    let anchor = &posts[0].post;
    let label = s.summaries.remove(&new.narrative).map(|x| x.label.text);
    let logged_at = EventTime(pharos_core::now_ms());
    let id = store.log_response(&ResponseRecord {
        id: 0,
        narrative: new.narrative,
        anchor_platform: Some(anchor.platform.clone()),
        anchor_post: Some(anchor.id.clone()),
        label: label.clone(),
        who: new.who.trim().to_string(),
        at_ms: new.at.0,
        channel: new.channel.trim().to_string(),
        url: new.url.clone(),
        partner: new.partner.clone(),
        note: new.note.clone(),
        logged_at_ms: logged_at.0,
    })?;
    Ok(Response {
        id,
        narrative: new.narrative,
        anchor: Some(format!("{}:{}", anchor.platform, anchor.id)),
        label,
        who: new.who.trim().to_string(),
        at: new.at,
        channel: new.channel.trim().to_string(),
        url: new.url,
        partner: new.partner,
        note: new.note,
        logged_at,
    })
}

/// The logged responses (of one narrative, or all), oldest first; empty
/// when none was ever logged.
pub fn responses<S: Responses + ?Sized>(
    store: &S,
    narrative: Option<u64>,
) -> Result<Vec<Response>, StoreError> {
    Ok(store
        .responses(narrative)?
        .into_iter()
        .map(|r| Response {
            id: r.id,
            narrative: r.narrative,
            anchor: r
                .anchor_platform
                .zip(r.anchor_post)
                .map(|(p, i)| format!("{p}:{i}")),
            label: r.label,
            who: r.who,
            at: EventTime(r.at_ms),
            channel: r.channel,
            url: r.url,
            partner: r.partner,
            note: r.note,
            logged_at: EventTime(r.logged_at_ms),
        })
        .collect())
}

/// One window around a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    pub from: EventTime,
    pub to: EventTime,
    pub hours: f64,
    pub posts: u64,
    pub posts_per_hour: f64,
    pub platforms: Vec<Count>,
    pub languages: Vec<Count>,
    pub accounts: u64,
    /// Accounts whose first post in the narrative is in this window.
    pub new_accounts: u64,
    pub new_accounts_per_hour: f64,
    /// `new_accounts / accounts` (0 when no accounts).
    pub new_account_share: f64,
}

/// `declined`, `flat` or `grew`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trend {
    Declined,
    Flat,
    Grew,
}

/// A resurgence after a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resurgence {
    /// When it came back (the block's start, or the burst's alert).
    pub at: EventTime,
    /// The quiet block before it.
    pub quiet_from: EventTime,
    /// Posts in the resurging block (or the burst's volume).
    pub posts: u64,
    /// Posts the before-window rate gives for a block.
    pub expected: f64,
    pub reason: String,
}

/// One response and the narrative around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseReport {
    pub response: Response,
    pub before: WindowStats,
    pub after: WindowStats,
    pub trend: Trend,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resurgence: Option<Resurgence>,
}

/// One narrative's responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NarrativeReport {
    /// The narrative id now (equal to the logged one unless ids shifted).
    pub narrative: u64,
    pub logged_as: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub posts: u64,
    pub responses: Vec<ResponseReport>,
    /// Its latest response was followed by a resurgence.
    pub resurging: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<EventTime>,
    pub window_hours: f64,
    pub narratives: Vec<NarrativeReport>,
    /// Ids of the narratives flagged as resurging.
    pub resurging: Vec<u64>,
}

/// The before/after report of every logged response (of one narrative, or all).
pub fn report(
    store: &(impl Store + Responses),
    narrative: Option<u64>,
    window_h: f64,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, RespondError> {
    if window_h.is_nan() || window_h <= 0.0 {
        return Err(RespondError::Invalid(format!(
            "the window must be a positive number of hours (got {window_h})"
        )));
    }
    let logged = responses(store, narrative)?;
    let mut by_narrative: BTreeMap<u64, Vec<Response>> = BTreeMap::new();
    for r in logged {
        by_narrative.entry(r.narrative).or_default().push(r);
    }
    let wanted: HashSet<u64> = by_narrative.keys().copied().collect();
    let mut s = if wanted.is_empty() {
        scan::NarrativeScan::default()
    } else {
        scan::scan(store, &wanted, None, progress)?
    };
    // Narratives whose anchor post is no longer in them: ids have shifted.
    let mut moved: HashMap<u64, u64> = HashMap::new();
    for (&n, rs) in &by_narrative {
        let Some(anchor) = rs.iter().find_map(|r| r.anchor.clone()) else {
            continue;
        };
        let present = s.posts.get(&n).is_some_and(|ps| {
            ps.iter()
                .any(|p| format!("{}:{}", p.post.platform, p.post.id) == anchor)
        });
        if !present
            && let Some((p, id)) = anchor.split_once(':')
            && let Some(Some(now)) = scan::narrative_of_post(store, p, id, progress)?
            && now != n
        {
            moved.insert(n, now);
        }
    }
    if !moved.is_empty() {
        let again: HashSet<u64> = moved.values().copied().collect();
        let mut s2 = scan::scan(store, &again, None, progress)?;
        for (&old, &now) in &moved {
            if let Some(p) = s2.posts.remove(&now) {
                s.posts.insert(old, p);
            }
            if let Some(b) = s2.bursts.remove(&now) {
                s.bursts.insert(old, b);
            }
            if let Some(x) = s2.summaries.remove(&now) {
                s.summaries.insert(old, x);
            }
        }
    }
    let as_of = s.as_of;
    let window_ms = (window_h * HOUR_MS as f64) as i64;
    let mut out = Report {
        as_of,
        window_hours: window_h,
        narratives: Vec::new(),
        resurging: Vec::new(),
    };
    for (n, rs) in by_narrative {
        let posts = s.posts.remove(&n).unwrap_or_default();
        let bursts = s.bursts.remove(&n).unwrap_or_default();
        let current = moved.get(&n).copied().unwrap_or(n);
        let mut notes = Vec::new();
        if current != n {
            notes.push(format!(
                "narrative ids have shifted since the responses were logged (earlier posts were added): narrative {n} is now {current}"
            ));
        }
        if posts.is_empty() {
            notes.push(format!("narrative {n} has no posts in the store any more"));
        }
        let label = s
            .summaries
            .remove(&n)
            .map(|x| x.label.text)
            .or_else(|| rs.iter().find_map(|r| r.label.clone()));
        let end = as_of.map_or(i64::MAX, |t| t.0 + 1);
        let reports: Vec<ResponseReport> = rs
            .into_iter()
            .map(|r| response_report(r, &posts, &bursts, window_ms, end))
            .collect();
        let resurging = reports.last().is_some_and(|r| r.resurgence.is_some());
        if resurging {
            out.resurging.push(current);
        }
        out.narratives.push(NarrativeReport {
            narrative: current,
            logged_as: n,
            label,
            posts: posts.len() as u64,
            responses: reports,
            resurging,
            notes,
        });
    }
    Ok(out)
}

fn response_report(
    r: Response,
    posts: &[NarrativePost],
    bursts: &[Alert],
    window_ms: i64,
    end: i64,
) -> ResponseReport {
    let t = r.at.0;
    let mut first_seen: HashMap<(&str, &str), i64> = HashMap::new();
    for p in posts {
        let k = (p.post.platform.as_str(), p.post.actor.id.as_str());
        let e = first_seen.entry(k).or_insert(p.post.time.0);
        *e = (*e).min(p.post.time.0);
    }
    let before = window(posts, &first_seen, t - window_ms, t);
    let after = window(posts, &first_seen, t, (t + window_ms).min(end.max(t)));
    let ratio = if before.posts_per_hour > 0.0 {
        after.posts_per_hour / before.posts_per_hour
    } else if after.posts > 0 {
        f64::INFINITY
    } else {
        1.0
    };
    let trend = if ratio <= 0.67 {
        Trend::Declined
    } else if ratio >= 1.5 {
        Trend::Grew
    } else {
        Trend::Flat
    };
    let resurgence = resurgence(posts, bursts, t, end, before.posts_per_hour);
    ResponseReport {
        response: r,
        before,
        after,
        trend,
        resurgence,
    }
}

fn window(
    posts: &[NarrativePost],
    first_seen: &HashMap<(&str, &str), i64>,
    from: i64,
    to: i64,
) -> WindowStats {
    let mut platforms: HashMap<String, u64> = HashMap::new();
    let mut languages: HashMap<String, u64> = HashMap::new();
    let mut accounts: HashSet<(&str, &str)> = HashSet::new();
    let mut n = 0u64;
    for p in posts {
        let tm = p.post.time.0;
        if tm < from || tm >= to {
            continue;
        }
        n += 1;
        *platforms.entry(p.post.platform.clone()).or_default() += 1;
        *languages
            .entry(p.post.lang.clone().unwrap_or_else(|| "und".into()))
            .or_default() += 1;
        accounts.insert((p.post.platform.as_str(), p.post.actor.id.as_str()));
    }
    let new_accounts = accounts
        .iter()
        .filter(|k| first_seen.get(*k).is_some_and(|&f| f >= from && f < to))
        .count() as u64;
    let hours = ((to - from).max(0) as f64) / HOUR_MS as f64;
    let per_hour = |x: u64| if hours > 0.0 { x as f64 / hours } else { 0.0 };
    let sorted = |m: HashMap<String, u64>| {
        let mut v: Vec<Count> = m
            .into_iter()
            .map(|(key, posts)| Count { key, posts })
            .collect();
        v.sort_by(|a, b| b.posts.cmp(&a.posts).then(a.key.cmp(&b.key)));
        v
    };
    WindowStats {
        from: EventTime(from),
        to: EventTime(to),
        hours,
        posts: n,
        posts_per_hour: per_hour(n),
        platforms: sorted(platforms),
        languages: sorted(languages),
        accounts: accounts.len() as u64,
        new_accounts,
        new_accounts_per_hour: per_hour(new_accounts),
        new_account_share: if accounts.is_empty() {
            0.0
        } else {
            new_accounts as f64 / accounts.len() as f64
        },
    }
}

/// The resurgence rule (see the module documentation).
fn resurgence(
    posts: &[NarrativePost],
    bursts: &[Alert],
    t: i64,
    end: i64,
    before_rate: f64,
) -> Option<Resurgence> {
    let block = BLOCK_H * HOUR_MS;
    if end <= t {
        return None;
    }
    let blocks = ((end - t) + block - 1) / block;
    let mut counts = vec![0u64; blocks as usize];
    for p in posts {
        let tm = p.post.time.0;
        if tm >= t && tm < end {
            counts[((tm - t) / block) as usize] += 1;
        }
    }
    let expected = before_rate * BLOCK_H as f64;
    let mut quiet: Option<i64> = None;
    for (i, &c) in counts.iter().enumerate() {
        let start = t + i as i64 * block;
        let complete = start + block <= end;
        if let Some(q) = quiet {
            if let Some(b) = bursts
                .iter()
                .find(|b| b.opened_at.0 >= q + block && b.opened_at.0 < start + block)
            {
                return Some(Resurgence {
                    at: b.opened_at,
                    quiet_from: EventTime(q),
                    posts: b.volume,
                    expected,
                    reason: format!(
                        "a burst opened after a quiet period ({:.1}× its usual rate)",
                        b.growth_rate
                    ),
                });
            }
            if c >= MIN_RESURGENCE_POSTS && c as f64 >= expected {
                return Some(Resurgence {
                    at: EventTime(start),
                    quiet_from: EventTime(q),
                    posts: c,
                    expected,
                    reason: format!(
                        "{c} posts in 6 hours after a quiet period, back to the rate before the response ({expected:.1})"
                    ),
                });
            }
        }
        if quiet.is_none() && complete && (c as f64) <= expected * 0.5 {
            quiet = Some(start);
        }
    }
    None
}
