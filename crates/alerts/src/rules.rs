//! Alert rules: which alerts are worth a notification.
//!
//! A rules file holds one or more `[[rule]]` tables; an alert is sent once
//! per rule it matches. Every field is optional; the defaults are those of
//! [`Rule::default`] (and `crates/alerts/rules.example.toml` lists them with
//! comments). An empty file means the single default rule.

use pharos_analysis::bursts::{Alert, AlertEvent, EntityKind};
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

use crate::notification::{Notification, Status};

/// Why a rules file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read rules file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("rules file {path} is not valid TOML for alert rules: {message}")]
    Parse { path: String, message: String },
    #[error("rule {rule:?}: {message}")]
    Invalid { rule: String, message: String },
}

/// One rule. Thresholds are minimums; lists are "any of" (empty = all).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    /// Shown in every notification it lets through (default `"default"`).
    pub name: String,
    /// Entity kinds (`narrative`, `family`, `url`, `domain`, `hashtag`,
    /// `network`, `reshare_target`, `conversation`, `claim`); empty = all.
    pub kinds: Vec<String>,
    /// Entities to watch: exact keys or patterns with `*` (e.g.
    /// `"*.example.com"`, `"https://news.*"`, `"*vote*"`); empty = all.
    pub include: Vec<String>,
    /// Entities never to alert on, same syntax (e.g. `"t.co"`, `"youtube.com"`).
    pub exclude: Vec<String>,
    /// At least one of the burst's platforms must be listed; empty = all.
    pub platforms: Vec<String>,
    /// At least one of the burst's languages must be listed; empty = all.
    pub languages: Vec<String>,
    /// Minimum composite severity, 0–1 (default 0.5).
    pub min_severity: f64,
    /// Minimum posts in the burst (default 0: the detector's own minimum, 8, applies).
    pub min_volume: u64,
    /// Minimum distinct actors (default 0: the detector's own minimum, 5, applies).
    pub min_distinct_actors: u64,
    /// Minimum growth over the seasonal baseline, × (default 0).
    pub min_growth: f64,
    /// Minimum share of flagged (coordinated or suspicious) actors, 0–1 (default 0).
    pub min_flagged_share: f64,
    /// `claim` alerts only: minimum mean confidence of the claim matches,
    /// 0–1 (default 0: the detector's own minimum, 0.5, applies). The
    /// minimum number of matches is `min_volume`.
    pub min_confidence: f64,
    /// After this rule raised an alert on an entity, further alerts on the
    /// same entity are suppressed for this many seconds of event time
    /// (default 3600).
    pub cooldown_s: u64,
    /// Send a notification at every update of a raised alert (default false).
    pub notify_updates: bool,
    /// Send a notification when a raised alert closes (default true).
    pub notify_close: bool,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            name: "default".into(),
            kinds: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            platforms: Vec::new(),
            languages: Vec::new(),
            min_severity: 0.5,
            min_volume: 0,
            min_distinct_actors: 0,
            min_growth: 0.0,
            min_flagged_share: 0.0,
            min_confidence: 0.0,
            cooldown_s: 3600,
            notify_updates: false,
            notify_close: true,
        }
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Rule {
    fn validate(&self) -> Result<(), RulesError> {
        let bad = |message: String| RulesError::Invalid {
            rule: self.name.clone(),
            message,
        };
        for k in &self.kinds {
            if EntityKind::parse(k).is_none() {
                let all: Vec<&str> = EntityKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(bad(format!(
                    "unknown entity kind {k:?}; use one of {}",
                    all.join(", ")
                )));
            }
        }
        for (name, v) in [
            ("min_severity", self.min_severity),
            ("min_flagged_share", self.min_flagged_share),
            ("min_confidence", self.min_confidence),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!("{name} must be between 0 and 1, not {v}")));
            }
        }
        if self.min_growth < 0.0 {
            return Err(bad("min_growth must not be negative".into()));
        }
        Ok(())
    }

    /// Does the alert, as it stands, meet this rule?
    pub fn matches(&self, a: &Alert) -> bool {
        let key = a.entity.as_str();
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == a.entity_kind.as_str()))
            && (self.include.is_empty() || self.include.iter().any(|p| glob(p, key)))
            && !self.exclude.iter().any(|p| glob(p, key))
            && (self.platforms.is_empty() || a.platforms.iter().any(|p| self.platforms.contains(p)))
            && (self.languages.is_empty() || a.languages.iter().any(|l| self.languages.contains(l)))
            && a.severity >= self.min_severity
            && a.volume >= self.min_volume
            && a.distinct_actors >= self.min_distinct_actors
            && a.growth_rate >= self.min_growth
            && a.flagged_actor_share >= self.min_flagged_share
            && a.claim
                .as_ref()
                .is_none_or(|c| c.confidence >= self.min_confidence)
    }
}

/// A set of rules (a rules file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub rule: Vec<Rule>,
}

impl Default for Rules {
    /// One rule, [`Rule::default`]: every entity kind, severity ≥ 0.5, one
    /// hour of cooldown per entity, a notification when it closes.
    fn default() -> Self {
        Rules {
            rule: vec![Rule::default()],
        }
    }
}

impl Rules {
    /// Reads rules from TOML text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Rules, RulesError> {
        let mut r: Rules = toml::from_str(text).map_err(|e| RulesError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        if r.rule.is_empty() {
            r.rule.push(Rule::default());
        }
        for rule in &r.rule {
            rule.validate()?;
        }
        Ok(r)
    }

    /// Reads a rules file.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Rules::from_toml_str(&text, &path.display().to_string())
    }
}

/// Applies rules to the detector's events, with cooldowns.
///
/// State: the alerts raised and not yet closed, and the last raise per
/// (rule, entity) for cooldowns; entries older than the longest cooldown
/// are pruned, so memory follows the number of entities alerted on within
/// a cooldown.
#[derive(Debug)]
pub struct RuleEngine {
    rules: Rules,
    /// alert id → rules that raised it.
    raised: HashMap<String, Vec<usize>>,
    /// (rule, kind, entity) → event time of the last raise.
    last: HashMap<(usize, EntityKind, String), EventTime>,
    /// Alert ids already suppressed by a cooldown (so an update cannot slip through).
    suppressed: HashMap<(usize, String), EventTime>,
    suppressed_count: u64,
    prune_at: usize,
}

impl RuleEngine {
    pub fn new(rules: Rules) -> RuleEngine {
        RuleEngine {
            rules,
            raised: HashMap::new(),
            last: HashMap::new(),
            suppressed: HashMap::new(),
            suppressed_count: 0,
            prune_at: 4096,
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Alerts held back by a cooldown so far.
    pub fn suppressed(&self) -> u64 {
        self.suppressed_count
    }

    /// The notifications one detector event gives.
    pub fn process(&mut self, ev: &AlertEvent) -> Vec<Notification> {
        let mut out = Vec::new();
        let a = ev.alert();
        for (i, rule) in self.rules.rule.iter().enumerate() {
            let raised = self.raised.get(&a.id).is_some_and(|v| v.contains(&i));
            match ev {
                AlertEvent::Opened(_) | AlertEvent::Updated(_) => {
                    if raised {
                        if rule.notify_updates && matches!(ev, AlertEvent::Updated(_)) {
                            out.push(note(Status::Updated, rule, a, a.updated_at));
                        }
                        continue;
                    }
                    if self.suppressed.contains_key(&(i, a.id.clone())) || !rule.matches(a) {
                        continue;
                    }
                    let key = (i, a.entity_kind, a.entity.clone());
                    let now = a.updated_at;
                    let cooling = self.last.get(&key).is_some_and(|prev| {
                        now.millis() - prev.millis() < rule.cooldown_s as i64 * 1000
                    });
                    if cooling {
                        self.suppressed.insert((i, a.id.clone()), now);
                        self.suppressed_count += 1;
                        tracing::debug!(rule = %rule.name, alert = %a.id, "alert suppressed by cooldown");
                        continue;
                    }
                    self.last.insert(key, now);
                    self.raised.entry(a.id.clone()).or_default().push(i);
                    out.push(note(Status::Raised, rule, a, now));
                }
                AlertEvent::Closed(_) => {
                    self.suppressed.remove(&(i, a.id.clone()));
                    if raised && rule.notify_close {
                        out.push(note(Status::Closed, rule, a, a.updated_at));
                    }
                }
            }
        }
        if matches!(ev, AlertEvent::Closed(_)) {
            self.raised.remove(&a.id);
        }
        if self.last.len() > self.prune_at {
            self.prune(a.updated_at);
        }
        out
    }

    fn prune(&mut self, now: EventTime) {
        let rules = &self.rules.rule;
        self.last
            .retain(|(i, _, _), t| now.millis() - t.millis() < rules[*i].cooldown_s as i64 * 1000);
        self.prune_at = (self.last.len() * 2).max(4096);
    }
}

fn note(status: Status, rule: &Rule, a: &Alert, raised_at: EventTime) -> Notification {
    Notification {
        status,
        rule: rule.name.clone(),
        raised_at,
        alert: a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob("t.co", "t.co"));
        assert!(!glob("t.co", "at.co"));
        assert!(glob("*.example.com", "news.example.com"));
        assert!(!glob("*.example.com", "example.com"));
        assert!(glob("https://news.*", "https://news.site/a"));
        assert!(glob("*vote*", "evoted"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXcYb"));
        assert!(glob("*", "anything"));
    }

    #[test]
    fn example_file_parses_and_equals_the_defaults_where_it_says_so() {
        let text = include_str!("../rules.example.toml");
        let r = Rules::from_toml_str(text, "rules.example.toml").unwrap();
        assert_eq!(
            r.rule[0],
            Rule::default(),
            "the first rule spells out the defaults"
        );
        assert!(r.rule.len() >= 2);
    }

    #[test]
    fn empty_file_is_the_default_rule() {
        assert_eq!(Rules::from_toml_str("", "x").unwrap(), Rules::default());
    }

    #[test]
    fn bad_rules_say_what_to_fix() {
        let e = Rules::from_toml_str("[[rule]]\nkinds = [\"hashtags\"]\n", "x").unwrap_err();
        assert!(e.to_string().contains("use one of"), "{e}");
        let e = Rules::from_toml_str("[[rule]]\nmin_severity = 2.0\n", "x").unwrap_err();
        assert!(e.to_string().contains("between 0 and 1"), "{e}");
        let e = Rules::from_toml_str("[[rule]]\nmin_sevrity = 0.2\n", "x").unwrap_err();
        assert!(e.to_string().contains("min_sevrity"), "{e}");
    }
}
