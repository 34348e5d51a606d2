//! Facts the reports share, computed once from an assessment: what was
//! exploited, when it was detected and answered, what to do.

use crate::assess::{Assessment, ResponseEffect};
use crate::build::{duration, join_and, plural};
use crate::disarm::Signal;
use crate::incident::{Evidence, Incident};
use std::collections::BTreeMap;

/// Posts of an incident by hour of day (UTC): from the timeline when its
/// buckets are an hour or shorter, else from the posts in its evidence.
pub fn hours_of_day(inc: &Incident) -> [u64; 24] {
    let mut h = [0u64; 24];
    if inc.timeline.bucket_s <= 3600 {
        for (i, n) in inc.timeline.totals().into_iter().enumerate() {
            let t = inc.timeline.start.millis() + i as i64 * inc.timeline.bucket_s * 1000;
            h[(t.div_euclid(3_600_000) % 24) as usize] += n;
        }
    } else {
        for e in &inc.evidence {
            if e.id.starts_with("post:")
                && let Some(t) = e.time
            {
                h[(t.millis().div_euclid(3_600_000) % 24) as usize] += 1;
            }
        }
    }
    h
}

/// The busiest hours (UTC) holding at least half of the posts, as text.
pub fn peak_hours(h: &[u64; 24]) -> String {
    let total: u64 = h.iter().sum();
    if total == 0 {
        return "no posts".into();
    }
    let mut order: Vec<usize> = (0..24).collect();
    order.sort_by(|&a, &b| h[b].cmp(&h[a]).then(a.cmp(&b)));
    let mut acc = 0;
    let mut picked = Vec::new();
    for i in order {
        picked.push(i);
        acc += h[i];
        if acc * 2 >= total {
            break;
        }
    }
    picked.sort_unstable();
    let shown: Vec<String> = picked.iter().map(|i| format!("{i:02}:00")).collect();
    format!(
        "{} UTC hold half of the posts",
        join_and(&shown.into_iter().take(8).collect::<Vec<_>>())
    )
}

/// Seconds from the incident's first post to its first alert.
pub fn time_to_detect(inc: &Incident) -> Option<f64> {
    inc.alerts
        .iter()
        .map(|a| (a.opened_at.millis() - inc.first_seen.millis()) as f64 / 1000.0)
        .reduce(f64::min)
        .map(|s| s.max(0.0))
}

/// Responses to this incident.
pub fn responses_of<'a>(a: &'a Assessment, inc: &Incident) -> Vec<&'a ResponseEffect> {
    a.responses
        .iter()
        .filter(|r| r.incident == inc.id)
        .collect()
}

/// A word for a score.
pub fn level(x: f64) -> &'static str {
    if x >= 0.7 {
        "high"
    } else if x >= 0.4 {
        "moderate"
    } else {
        "low"
    }
}

/// Recommended actions for decision-makers, from what the evidence shows.
/// Each action says why (which signal) and points to evidence.
pub fn recommendations(a: &Assessment, inc: &Incident) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    // A response pack's drafts come first: the correction is written.
    let drafts = a.drafts.get(&inc.id).map(Vec::as_slice).unwrap_or(&[]);
    for d in drafts.iter().take(2) {
        let text: String = d.text.chars().take(400).collect();
        out.push((
            format!(
                "Publish the drafted correction ({}): \u{201c}{}\u{201d}{}",
                d.lang,
                text,
                if d.sources.is_empty() {
                    String::new()
                } else {
                    format!(" Sources: {}.", d.sources.join(", "))
                }
            ),
            inc.claim_matches.iter().map(|m| m.id.clone()).collect(),
        ));
    }
    let has = |sig: &str| inc.techniques.iter().any(|t| t.signal == sig);
    let tech_ev = |sig: &str| -> Vec<String> {
        inc.techniques
            .iter()
            .filter(|t| t.signal == sig)
            .flat_map(|t| t.evidence.iter().take(3).cloned())
            .collect()
    };
    if drafts.is_empty() && !inc.claim_matches.is_empty() {
        let m = &inc.claim_matches[0];
        let fc = m
            .fact_checks
            .first()
            .map(|u| format!(" citing {u}"))
            .unwrap_or_default();
        out.push((
            format!(
                "Publish a correction of the recycled claim{}{fc}, in {}, on {}.",
                if m.claim_text.is_empty() {
                    String::new()
                } else {
                    format!(" \u{201c}{}\u{201d}", m.claim_text)
                },
                join_and(
                    &inc.languages
                        .keys()
                        .filter(|l| *l != "und")
                        .cloned()
                        .collect::<Vec<_>>()
                ),
                join_and(&inc.platforms.keys().cloned().collect::<Vec<_>>())
            ),
            vec![m.id.clone()],
        ));
    }
    let coordinated: Vec<String> = inc
        .actors
        .iter()
        .filter(|a| a.coordinated)
        .map(|a| a.id.clone())
        .collect();
    if !coordinated.is_empty() {
        let platforms: Vec<String> = {
            let mut p: Vec<String> = inc
                .actors
                .iter()
                .filter(|a| a.coordinated)
                .map(|a| a.platform.clone())
                .collect();
            p.sort();
            p.dedup();
            p
        };
        out.push((
            format!(
                "Report the {} to {} trust-and-safety teams as coordinated inauthentic behaviour, with the network evidence.",
                plural(coordinated.len(), "coordinated account", "coordinated accounts"),
                join_and(&platforms)
            ),
            inc.networks.iter().map(|n| n.id.clone()).collect(),
        ));
    }
    if has(Signal::CopyPasteFlood.as_str()) {
        out.push((
            "Share the copy-paste text with platforms and partners so copies can be found and labelled; avoid quoting it in full in public answers.".into(),
            tech_ev(Signal::CopyPasteFlood.as_str()),
        ));
    }
    if has(Signal::LinkLaundering.as_str()) {
        let domains: Vec<String> = inc.domains.iter().take(3).map(|d| d.key.clone()).collect();
        out.push((
            format!(
                "Check the sites behind the links ({}) and share them as indicators with partners (STIX export).",
                join_and(&domains)
            ),
            tech_ev(Signal::LinkLaundering.as_str()),
        ));
    }
    if has(Signal::HashtagFlood.as_str()) {
        let tags: Vec<String> = inc
            .hashtags
            .iter()
            .take(2)
            .map(|h| format!("#{}", h.key))
            .collect();
        out.push((
            format!(
                "Do not amplify {}: answer under the audience's own hashtags and ask platforms to review the flood.",
                join_and(&tags)
            ),
            tech_ev(Signal::HashtagFlood.as_str()),
        ));
    }
    if has(Signal::ReshareRing.as_str()) {
        out.push((
            "Ask platforms to review the reshare ring; warn the authors whose posts it amplified that their reach is being inflated.".into(),
            tech_ev(Signal::ReshareRing.as_str()),
        ));
    }
    if inc.severity.value >= 0.4 || !inc.alerts.is_empty() {
        out.push((
            "Keep watching: alert rules on the narrative, its hashtags and links will say if it comes back.".into(),
            inc.alerts.iter().take(3).map(|a| a.id.clone()).collect(),
        ));
    }
    if out.is_empty() {
        out.push((
            "Monitor: the evidence is not yet strong enough to act on.".into(),
            Vec::new(),
        ));
    }
    out
}

/// What was exploited across incidents: posts per platform, language,
/// hashtag, domain, and the accounts that amplified most.
pub struct Exploited {
    pub platforms: BTreeMap<String, u64>,
    pub languages: BTreeMap<String, u64>,
    pub hashtags: Vec<(String, u64)>,
    pub domains: Vec<(String, u64)>,
    pub hours: [u64; 24],
    /// (evidence id, display, platform, posts, coordinated)
    pub amplifiers: Vec<(String, String, String, u64, bool)>,
}

pub fn exploited(incidents: &[Incident]) -> Exploited {
    let mut platforms = BTreeMap::new();
    let mut languages = BTreeMap::new();
    let mut hashtags: BTreeMap<String, u64> = BTreeMap::new();
    let mut domains: BTreeMap<String, u64> = BTreeMap::new();
    let mut hours = [0u64; 24];
    let mut amplifiers = Vec::new();
    for inc in incidents {
        for (k, v) in &inc.platforms {
            *platforms.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &inc.languages {
            *languages.entry(k.clone()).or_insert(0) += v;
        }
        for c in &inc.hashtags {
            *hashtags.entry(c.key.clone()).or_insert(0) += c.posts;
        }
        for c in &inc.domains {
            *domains.entry(c.key.clone()).or_insert(0) += c.posts;
        }
        for (i, n) in hours_of_day(inc).iter().enumerate() {
            hours[i] += n;
        }
        for a in &inc.actors {
            amplifiers.push((
                a.id.clone(),
                a.display(),
                a.platform.clone(),
                a.posts,
                a.coordinated,
            ));
        }
    }
    let top = |m: BTreeMap<String, u64>| {
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(10);
        v
    };
    amplifiers.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    amplifiers.truncate(15);
    Exploited {
        platforms,
        languages,
        hashtags: top(hashtags),
        domains: top(domains),
        hours,
        amplifiers,
    }
}

/// Lessons for next time, from what was exploited and how fast Pharos saw it.
pub fn lessons(a: &Assessment) -> Vec<String> {
    let mut out = Vec::new();
    let ex = exploited(&a.incidents);
    if let Some((p, n)) = ex.platforms.iter().max_by_key(|x| x.1) {
        out.push(format!(
            "{p} carried most of the campaigns' posts ({n}): agree a fast reporting channel with its trust-and-safety team."
        ));
    }
    let langs: Vec<String> = ex
        .languages
        .keys()
        .filter(|l| *l != "und")
        .cloned()
        .collect();
    if langs.len() > 1 {
        out.push(format!(
            "Campaigns ran in {}: prepare fact-checks and corrections in each of these languages ahead of time.",
            join_and(&langs)
        ));
    }
    out.push(format!(
        "Activity peaked when {}: staff monitoring for those hours.",
        peak_hours(&ex.hours)
    ));
    let detect: Vec<f64> = a.incidents.iter().filter_map(time_to_detect).collect();
    let undetected = a.incidents.len() - detect.len();
    if undetected > 0 {
        out.push(format!(
            "{} raised no burst alert: add alert rules on their hashtags, links and narratives, or lower the severity threshold for flagged accounts.",
            plural(undetected, "incident", "incidents")
        ));
    }
    if let Some(worst) = detect.iter().copied().reduce(f64::max)
        && worst > 3600.0
    {
        out.push(format!(
            "The slowest detection took {}: campaigns that build slowly need narrative-level rules, not only bursts.",
            duration(worst)
        ));
    }
    if a.responses.is_empty() && !a.incidents.is_empty() {
        out.push("No response was recorded: record corrections and reports as responses so their effect can be measured next time.".into());
    }
    let new_accounts = a
        .incidents
        .iter()
        .flat_map(|i| i.techniques.iter())
        .any(|t| t.t_id == "T0150.001");
    if new_accounts {
        out.push("Newly created accounts were used: watch account age in alert rules (flagged share) and ask platforms about creation clusters.".into());
    }
    out
}

/// Evidence entry label for a reference (for footnotes).
pub fn evidence_label<'a>(inc: &'a Incident, id: &str) -> Option<&'a Evidence> {
    inc.evidence(id)
}
