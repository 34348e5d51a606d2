//! Claim alerts: posts that repeat a known fact-checked claim.
//!
//! A burst detector needs volume; a false claim launched by one channel
//! stands alone for its first hour. What gives it away early is content:
//! a post matching a claim that fact-checkers have already rated false.
//! The caller matches each post against a fact-check library (any
//! matcher: see `pharos_assess::stream::ClaimSignal`) and feeds the
//! confident matches here as [`ClaimObservation`]s, in event-time order.
//!
//! Per claim, [`ClaimWatch`] counts the confident matches (at least
//! [`ClaimConfig::min_confidence`]) of its current episode; at
//! [`ClaimConfig::min_hits`] (default 1: the first confident match) it
//! opens an alert of kind `claim`. The alert is refreshed at most once a
//! [`ClaimConfig::update_every_s`] while matches keep coming, and closes
//! when no match has come for [`ClaimConfig::quiet_s`] (default 6 h) of
//! event time. An episode that never reaches `min_hits` is forgotten after
//! the same quiet time.
//!
//! **Severity** = `verdict × confidence × (0.5 + 0.5 × actors)`:
//! - *verdict*: how false the fact-checkers found the claim (False, Pants
//!   on fire, Fake … 1; Misleading, Mostly false, Missing context … 0.7;
//!   Unproven, Mixed … 0.4; Mostly true 0.1; True 0; anything else 0.5);
//! - *confidence*: the mean confidence of the episode's confident matches;
//! - *actors*: the larger of the share of distinct accounts flagged
//!   coordinated or suspicious and the spread `1 − exp(−(accounts − 1) / 4)`
//!   (one account 0, five 0.63).
//!
//! So one unflagged account repeating a claim rated false, matched with
//! confidence 1, scores 0.5: the default rule (0.45) hears about it at the
//! first match; a match of confidence 0.8 needs a flagged account or a
//! second account. Every term is spelt out in the explanation.
//!
//! Memory: one small record per claim with a live episode (capped at
//! [`ClaimConfig::max_claims`], the longest-quiet dropped first), each with
//! at most [`ClaimConfig::max_actors`] actors and
//! [`ClaimConfig::evidence_posts`] post ids.

use super::alert::{Alert, ClaimDetails, SeverityTerms};
use super::{ActorFlags, AlertEvent, EntityKind};
use ahash::AHashMap;
use pharos_core::EventTime;

/// One confident match of one post against one fact-checked claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimObservation<'a> {
    /// The claim's id in the fact-check library.
    pub claim_id: &'a str,
    /// How sure the matcher is, 0–1.
    pub confidence: f64,
    /// The fact-checkers' rating (`False`, `Misleading`, ...).
    pub verdict: &'a str,
    pub time: EventTime,
    pub actor: &'a str,
    pub platform: &'a str,
    pub lang: Option<&'a str>,
    pub flags: ActorFlags,
    pub post: &'a str,
}

/// Claim-alert settings (documented in `docs/early-warning.md`).
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimConfig {
    /// Matches below this confidence are ignored (default 0.5).
    pub min_confidence: f64,
    /// Confident matches an episode needs before its alert opens (default 1).
    pub min_hits: u64,
    /// An episode ends after this long without a match, seconds of event
    /// time (default 6 h): its alert closes, or it is forgotten.
    pub quiet_s: i64,
    /// Shortest event time between two updates of an open alert (default 120 s).
    pub update_every_s: i64,
    /// Post ids kept as evidence per alert (default 50).
    pub evidence_posts: usize,
    /// Distinct actors tracked exactly per episode (default 10,000).
    pub max_actors: usize,
    /// Most claims with a live episode (default 100,000).
    pub max_claims: usize,
}

impl Default for ClaimConfig {
    fn default() -> Self {
        ClaimConfig {
            min_confidence: 0.5,
            min_hits: 1,
            quiet_s: 6 * 3600,
            update_every_s: 120,
            evidence_posts: 50,
            max_actors: 10_000,
            max_claims: 100_000,
        }
    }
}

/// How false a verdict says the claim is, 0–1 (see the module docs).
pub fn verdict_weight(verdict: &str) -> f64 {
    let v = verdict.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| v.contains(w));
    if has(&[
        "mostly false",
        "partly false",
        "partially false",
        "half false",
        "misleading",
        "missing context",
        "lacks context",
        "out of context",
        "distort",
        "exaggerat",
        "manipulat",
        "altered",
        "satire",
    ]) {
        0.7
    } else if has(&[
        "false",
        "fake",
        "pants on fire",
        "incorrect",
        "wrong",
        "hoax",
        "scam",
        "fabricated",
        "debunked",
        "untrue",
        "not true",
    ]) {
        1.0
    } else if has(&[
        "unproven",
        "unverified",
        "unsupported",
        "mixed",
        "mixture",
        "half true",
        "disputed",
    ]) {
        0.4
    } else if has(&["mostly true"]) {
        0.1
    } else if has(&["true", "correct", "accurate"]) {
        0.0
    } else {
        0.5
    }
}

#[derive(Debug)]
struct Episode {
    first_ms: i64,
    last_ms: i64,
    hits: u64,
    confidence_sum: f64,
    verdict: String,
    actors: AHashMap<u64, u8>,
    flagged: u64,
    coordinated: u64,
    suspicious: u64,
    platforms: Vec<String>,
    languages: Vec<String>,
    evidence: Vec<String>,
    opened: Option<(i64, String)>,
    last_emit_ms: i64,
}

/// Counters for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClaimWatchStats {
    pub matches: u64,
    /// Matches under `min_confidence`.
    pub unconfident: u64,
    pub live_claims: usize,
    pub alerts_opened: u64,
    pub evicted: u64,
}

/// First-match alerts on known fact-checked claims. See the module docs.
pub struct ClaimWatch {
    cfg: ClaimConfig,
    live: AHashMap<String, Episode>,
    now: i64,
    next_sweep: i64,
    stats: ClaimWatchStats,
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Default for ClaimWatch {
    fn default() -> Self {
        ClaimWatch::new(ClaimConfig::default())
    }
}

impl ClaimWatch {
    pub fn new(cfg: ClaimConfig) -> ClaimWatch {
        ClaimWatch {
            cfg,
            live: AHashMap::new(),
            now: i64::MIN,
            next_sweep: i64::MIN,
            stats: ClaimWatchStats::default(),
        }
    }

    pub fn config(&self) -> &ClaimConfig {
        &self.cfg
    }

    pub fn stats(&self) -> ClaimWatchStats {
        ClaimWatchStats {
            live_claims: self.live.len(),
            ..self.stats
        }
    }

    /// One match (in event-time order).
    pub fn observe(&mut self, o: &ClaimObservation<'_>, out: &mut Vec<AlertEvent>) {
        let ms = o.time.millis();
        self.stats.matches += 1;
        self.advance(o.time, out);
        // NaN confidence counts as unconfident.
        if o.confidence.is_nan() || o.confidence < self.cfg.min_confidence {
            self.stats.unconfident += 1;
            return;
        }
        if !self.live.contains_key(o.claim_id) && self.live.len() >= self.cfg.max_claims {
            self.evict();
        }
        let cfg = &self.cfg;
        let ep = self
            .live
            .entry(o.claim_id.to_string())
            .or_insert_with(|| Episode {
                first_ms: ms,
                last_ms: ms,
                hits: 0,
                confidence_sum: 0.0,
                verdict: o.verdict.to_string(),
                actors: AHashMap::new(),
                flagged: 0,
                coordinated: 0,
                suspicious: 0,
                platforms: Vec::new(),
                languages: Vec::new(),
                evidence: Vec::new(),
                opened: None,
                last_emit_ms: i64::MIN,
            });
        ep.last_ms = ep.last_ms.max(ms);
        ep.hits += 1;
        ep.confidence_sum += o.confidence.min(1.0);
        let actor = fnv(o.actor);
        if ep.actors.len() < cfg.max_actors || ep.actors.contains_key(&actor) {
            let seen = ep.actors.entry(actor).or_insert(0);
            let prev = *seen;
            *seen |= o.flags.0;
            // An actor counts as flagged once any of its matches was.
            if prev & 3 == 0 && o.flags.any() {
                ep.flagged += 1;
            }
            if prev & 1 == 0 && o.flags.coordinated() {
                ep.coordinated += 1;
            }
            if prev & 2 == 0 && o.flags.suspicious() {
                ep.suspicious += 1;
            }
        }
        if !ep.platforms.iter().any(|p| p == o.platform) && ep.platforms.len() < 16 {
            ep.platforms.push(o.platform.to_string());
        }
        if let Some(l) = o.lang
            && !l.is_empty()
            && !ep.languages.iter().any(|x| x == l)
            && ep.languages.len() < 16
        {
            ep.languages.push(l.to_string());
        }
        if ep.evidence.len() < cfg.evidence_posts {
            ep.evidence.push(o.post.to_string());
        }
        if ep.hits < cfg.min_hits {
            return;
        }
        let key = o.claim_id;
        match &ep.opened {
            None => {
                ep.opened = Some((ms, format!("claim:{:016x}:{ms}", fnv(key))));
                ep.last_emit_ms = ms;
                self.stats.alerts_opened += 1;
                let a = make_alert(key, ep, ms, None);
                out.push(AlertEvent::Opened(a));
            }
            Some(_) if ms - ep.last_emit_ms >= cfg.update_every_s * 1000 => {
                ep.last_emit_ms = ms;
                let a = make_alert(key, ep, ms, None);
                out.push(AlertEvent::Updated(a));
            }
            Some(_) => {}
        }
    }

    /// Event time has reached `now`: episodes quiet for `quiet_s` end
    /// (their alerts close). Runs by itself as matches arrive; call it when
    /// the input pauses, like `BurstDetector::advance`.
    pub fn advance(&mut self, now: EventTime, out: &mut Vec<AlertEvent>) {
        let now = now.millis();
        if now > self.now {
            self.now = now;
        }
        if self.now < self.next_sweep {
            return;
        }
        // Sweep at most once a minute of event time.
        self.next_sweep = self.now + 60_000;
        let quiet = self.cfg.quiet_s * 1000;
        let mut ended: Vec<String> = self
            .live
            .iter()
            .filter(|(_, e)| self.now - e.last_ms > quiet)
            .map(|(k, _)| k.clone())
            .collect();
        ended.sort_unstable();
        for k in ended {
            let ep = self.live.remove(&k).expect("listed");
            if ep.opened.is_some() {
                let closed = EventTime(ep.last_ms);
                out.push(AlertEvent::Closed(make_alert(
                    &k,
                    &ep,
                    ep.last_ms,
                    Some(closed),
                )));
            }
        }
    }

    /// End of input: closes every open alert (at its last match).
    pub fn finish(&mut self, out: &mut Vec<AlertEvent>) {
        let mut keys: Vec<String> = self.live.keys().cloned().collect();
        keys.sort_unstable();
        for k in keys {
            let ep = self.live.remove(&k).expect("listed");
            if ep.opened.is_some() {
                let closed = EventTime(ep.last_ms);
                out.push(AlertEvent::Closed(make_alert(
                    &k,
                    &ep,
                    ep.last_ms,
                    Some(closed),
                )));
            }
        }
    }

    /// Drops the tenth of episodes quiet the longest that have no open alert
    /// (or, when all have one, the quietest tenth anyway, without closing).
    fn evict(&mut self) {
        let mut lasts: Vec<(i64, bool, String)> = self
            .live
            .iter()
            .map(|(k, e)| (e.last_ms, e.opened.is_some(), k.clone()))
            .collect();
        lasts.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)).then(a.2.cmp(&b.2)));
        let n = (self.live.len() / 10).max(1);
        for (_, _, k) in lasts.into_iter().take(n) {
            self.live.remove(&k);
            self.stats.evicted += 1;
        }
    }
}

fn make_alert(key: &str, ep: &Episode, updated: i64, closed: Option<EventTime>) -> Alert {
    let (opened_ms, id) = ep.opened.clone().unwrap_or((updated, String::new()));
    let actors = ep.actors.len() as u64;
    let share = |n: u64| {
        if actors == 0 {
            0.0
        } else {
            n as f64 / actors as f64
        }
    };
    let confidence = if ep.hits == 0 {
        0.0
    } else {
        ep.confidence_sum / ep.hits as f64
    };
    let verdict_w = verdict_weight(&ep.verdict);
    let flagged = share(ep.flagged);
    let spread = 1.0 - (-(actors.saturating_sub(1) as f64) / 4.0).exp();
    let actors_term = flagged.max(spread).clamp(0.0, 1.0);
    let severity = (verdict_w * confidence * (0.5 + 0.5 * actors_term)).clamp(0.0, 1.0);
    let dur_ms = (ep.last_ms - ep.first_ms).max(60_000) as f64;
    let rate = ep.hits as f64 * 3_600_000.0 / dur_ms;
    let mut a = Alert {
        id,
        entity_kind: EntityKind::Claim,
        entity: key.to_string(),
        opened_at: EventTime(opened_ms),
        closed_at: closed,
        lead_time_s: (opened_ms - ep.first_ms).max(0) as f64 / 1000.0,
        severity,
        explanation: String::new(),
        burst_start: EventTime(ep.first_ms),
        first_seen: EventTime(ep.first_ms),
        since_first_seen_s: (opened_ms - ep.first_ms).max(0) as f64 / 1000.0,
        updated_at: EventTime(updated.max(ep.last_ms)),
        volume: ep.hits,
        rate_per_hour: rate,
        baseline_per_hour: 0.0,
        growth_rate: 0.0,
        level: 0,
        distinct_actors: actors,
        flagged_actor_share: flagged,
        coordinated_actor_share: share(ep.coordinated),
        suspicious_actor_share: share(ep.suspicious),
        platforms: ep.platforms.clone(),
        languages: ep.languages.clone(),
        severity_terms: SeverityTerms {
            trend: 0.0,
            volume: 0.0,
            suspicion: flagged,
            diversity: spread,
        },
        evidence_posts: ep.evidence.clone(),
        claim: Some(ClaimDetails {
            verdict: ep.verdict.clone(),
            verdict_weight: verdict_w,
            confidence,
            actors_term,
        }),
    };
    a.explanation = format!(
        "{hits} post(s) by {actors} account(s) since {start} repeat the fact-checked claim {key} \
         (rated \"{verdict}\"); alerted {mins:.1} minutes after the first. \
         Severity {sev:.2} = verdict {vw:.2} × confidence {conf:.2} × (0.5 + 0.5 × actors {at:.2}). \
         Verdict {vw:.2}: fact-checkers rated it \"{verdict}\" (false 1, misleading 0.7, unproven 0.4, true 0). \
         Confidence {conf:.2}: the mean confidence of its matches. \
         Actors {at:.2}: the larger of the flagged share ({fs:.0} % of the accounts flagged coordinated or suspicious) \
         and the spread over {actors} account(s) ({sp:.2}; five accounts give 0.63).",
        hits = ep.hits,
        start = EventTime(ep.first_ms).to_rfc3339(),
        verdict = ep.verdict,
        mins = (opened_ms - ep.first_ms).max(0) as f64 / 60_000.0,
        sev = severity,
        vw = verdict_w,
        conf = confidence,
        at = actors_term,
        fs = flagged * 100.0,
        sp = spread,
    );
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit<'a>(claim: &'a str, actor: &'a str, secs: i64, confidence: f64) -> ClaimObservation<'a> {
        ClaimObservation {
            claim_id: claim,
            confidence,
            verdict: "False",
            time: EventTime(secs * 1000),
            actor,
            platform: "twitter",
            lang: Some("en"),
            flags: ActorFlags::NONE,
            post: actor,
        }
    }

    #[test]
    fn verdicts_weigh_by_how_false() {
        assert_eq!(verdict_weight("False"), 1.0);
        assert_eq!(verdict_weight("Pants on Fire!"), 1.0);
        assert_eq!(verdict_weight("Mostly False"), 0.7);
        assert_eq!(verdict_weight("Missing context"), 0.7);
        assert_eq!(verdict_weight("Unproven"), 0.4);
        assert_eq!(verdict_weight("Mostly true"), 0.1);
        assert_eq!(verdict_weight("True"), 0.0);
        assert_eq!(verdict_weight("Satirique?"), 0.5);
    }

    #[test]
    fn opens_at_min_hits_ignores_unconfident_and_closes_when_quiet() {
        let mut w = ClaimWatch::new(ClaimConfig {
            min_hits: 2,
            ..ClaimConfig::default()
        });
        let mut out = Vec::new();
        w.observe(&hit("c1", "a", 0, 0.3), &mut out);
        w.observe(&hit("c1", "b", 10, 0.9), &mut out);
        assert!(out.is_empty(), "one confident match of two needed");
        w.observe(&hit("c1", "c", 20, 1.0), &mut out);
        let AlertEvent::Opened(a) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(a.entity_kind, EntityKind::Claim);
        assert_eq!(a.volume, 2);
        assert_eq!(a.distinct_actors, 2);
        assert_eq!(a.lead_time_s, 10.0);
        let c = a.claim.as_ref().unwrap();
        assert!((c.confidence - 0.95).abs() < 1e-9);
        // Two unflagged accounts: spread 1 − e^(−1/4).
        let spread = 1.0 - (-0.25f64).exp();
        assert!((a.severity - 0.95 * (0.5 + 0.5 * spread)).abs() < 1e-9);
        assert_eq!(w.stats().unconfident, 1);
        // Six quiet hours later the episode ends and the alert closes.
        out.clear();
        w.advance(EventTime((20 + 6 * 3600 + 61) * 1000), &mut out);
        let AlertEvent::Closed(a) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(a.closed_at, Some(EventTime(20_000)));
        assert_eq!(w.stats().live_claims, 0);
    }

    #[test]
    fn a_single_confident_match_of_a_false_claim_reaches_half_severity() {
        let mut w = ClaimWatch::default();
        let mut out = Vec::new();
        w.observe(&hit("c2", "a", 0, 1.0), &mut out);
        let AlertEvent::Opened(a) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(a.severity, 0.5);
        assert!(a.explanation.contains("rated \"False\""));
        // A flagged account makes the actors term 1.
        let mut o = hit("c3", "b", 5, 1.0);
        o.flags = ActorFlags::SUSPICIOUS;
        out.clear();
        w.observe(&o, &mut out);
        assert_eq!(out[0].alert().severity, 1.0);
    }
}
