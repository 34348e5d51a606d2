//! The response pack: everything a team needs to answer a narrative or a
//! post that repeats known claims, in JSON and Markdown.

use super::draft::{Draft, KeyFact, draft, key_facts, language_name, review_lang};
use super::spread::Spread;
use super::timing::Timing;
use crate::model::Claim;
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// What the pack is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackTarget {
    /// `narrative` or `post`.
    pub kind: String,
    /// The narrative id (as `pharos narratives` prints it); for a post, its narrative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<u64>,
    /// `platform:id` of the post, for a post pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    /// The post's text, for a post pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The narrative's label (its most telling terms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The language the correction is for: the post's, or the narrative's most common.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_lang: Option<String>,
}

/// A known claim the target repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedClaim {
    pub claim: Claim,
    /// Posts of the target matching it.
    pub matched_posts: u64,
    pub max_confidence: f64,
    /// Whether the target post itself matches it (post packs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub matches_post: bool,
}

/// One fact-check verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub claim_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Where the matches came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchSource {
    /// The store's `claim_matches` (written by `pharos claims match --store`).
    Stored,
    /// Matched now against the library (no stored matches for these posts).
    OnTheFly,
    /// Nothing matched.
    None,
}

/// A response pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsePack {
    pub target: PackTarget,
    /// The latest event time in the store: the "now" of the pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<EventTime>,
    pub match_source: MatchSource,
    /// The claims it repeats, most matched first.
    pub claims: Vec<MatchedClaim>,
    /// Every verdict on those claims.
    pub verdicts: Vec<Verdict>,
    /// Correction drafts: the first for the audience language, then one for
    /// each other language the narrative spreads in that has a template.
    pub drafts: Vec<Draft>,
    /// Key facts from the first claim's fact-checks (all languages).
    pub key_facts: Vec<KeyFact>,
    pub spread: Spread,
    pub timing: Timing,
    /// Caveats (no match, ids, ...).
    pub notes: Vec<String>,
}

/// The verdicts of claims, in claim order.
pub fn verdicts(claims: &[MatchedClaim]) -> Vec<Verdict> {
    claims
        .iter()
        .flat_map(|m| {
            m.claim.reviews.iter().map(|r| Verdict {
                claim_id: m.claim.id.clone(),
                publisher: r.publisher.clone(),
                rating: r.rating.clone(),
                date: r.date.clone(),
                url: r.url.clone(),
                lang: review_lang(&m.claim, r).map(str::to_string),
                title: r.title.clone(),
            })
        })
        .collect()
}

/// Drafts: the audience language first, then each other of `languages`
/// (most common first) that has a draft template; a fact-check in a
/// draft's language is preferred when a matched claim has one.
pub fn drafts(claims: &[MatchedClaim], audience: Option<&str>, languages: &[String]) -> Vec<Draft> {
    let Some(first) = claims.first() else {
        return Vec::new();
    };
    let has_review_in = |m: &MatchedClaim, lang: &str| {
        m.claim
            .reviews
            .iter()
            .any(|r| review_lang(&m.claim, r) == Some(lang))
    };
    let pick = |lang: &str| {
        claims
            .iter()
            .find(|m| has_review_in(m, lang))
            .unwrap_or(first)
    };
    let audience_lang = audience.unwrap_or("en");
    let mut out = vec![draft(&pick(audience_lang).claim, Some(audience_lang))];
    for l in languages {
        if l == audience_lang || l == "und" || out.iter().any(|d| &d.audience_lang == l) {
            continue;
        }
        // Every other language with a template gets a draft in it (its
        // note says when it quotes fact-checks in another language).
        let d = draft(&pick(l).claim, Some(l));
        if d.lang == *l {
            out.push(d);
        }
    }
    out
}

/// The key facts of the first claim.
pub fn pack_key_facts(claims: &[MatchedClaim]) -> Vec<KeyFact> {
    claims
        .first()
        .map(|m| key_facts(&m.claim, &m.claim.reviews.iter().collect::<Vec<_>>()))
        .unwrap_or_default()
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The pack as Markdown.
pub fn to_markdown(p: &ResponsePack) -> String {
    let mut o = String::new();
    let title = match (&p.target.post, p.target.narrative) {
        (Some(post), _) => format!("post {post}"),
        (None, Some(n)) => format!("narrative {n}"),
        (None, None) => "unknown target".into(),
    };
    let _ = writeln!(o, "# Response pack: {title}\n");
    if let Some(t) = p.as_of {
        let _ = writeln!(
            o,
            "As of {} (the latest post read, or --until).",
            t.to_rfc3339()
        );
    }
    if let Some(n) = p.target.narrative {
        let _ = write!(o, "Narrative {n}");
        if let Some(l) = &p.target.label {
            let _ = write!(o, ": {l}");
        }
        let _ = writeln!(
            o,
            ". {} posts by {} accounts, {} to {}.",
            p.spread.posts,
            p.spread.accounts,
            p.spread
                .first_seen
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            p.spread
                .last_seen
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        );
    }
    if let Some(t) = &p.target.text {
        let _ = writeln!(
            o,
            "\nThe post:\n\n> {}",
            t.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    for n in &p.notes {
        let _ = writeln!(o, "\n*Note: {n}*");
    }

    let _ = writeln!(o, "\n## The claim\n");
    if p.claims.is_empty() {
        let _ = writeln!(o, "No known claim matched: there is nothing to cite yet.");
    }
    for (i, m) in p.claims.iter().enumerate() {
        let c = &m.claim;
        if i == 0 {
            let _ = writeln!(o, "> {}\n", c.text.trim());
        } else if i == 1 {
            let _ = writeln!(o, "Also matched:\n");
        }
        if i > 0 {
            let _ = writeln!(o, "- {}", c.text.trim());
        }
        let mut facts = vec![format!("claim `{}`", c.id)];
        if let Some(l) = &c.lang {
            facts.push(format!("language {l}"));
        }
        if let Some(a) = &c.claimant {
            facts.push(format!("claimant {a}"));
        }
        if let Some(d) = &c.claim_date {
            facts.push(format!("first seen {d}"));
        }
        facts.push(format!(
            "matched by {} post{} (confidence up to {:.2}{})",
            m.matched_posts,
            if m.matched_posts == 1 { "" } else { "s" },
            m.max_confidence,
            if m.matches_post {
                ", including this post"
            } else {
                ""
            }
        ));
        let _ = writeln!(o, "{}{}", if i > 0 { "  " } else { "" }, facts.join("; "));
        if i == 0 {
            let _ = writeln!(o);
        }
    }
    let source = match p.match_source {
        MatchSource::Stored => "stored matches (`pharos claims match --store`)",
        MatchSource::OnTheFly => "matched now against the library (no stored matches)",
        MatchSource::None => "",
    };
    if !source.is_empty() {
        let _ = writeln!(o, "\nMatches: {source}.");
    }

    if !p.verdicts.is_empty() {
        let _ = writeln!(o, "\n## Verdicts\n");
        let _ = writeln!(o, "| publisher | verdict | date | language | fact-check |");
        let _ = writeln!(o, "|---|---|---|---|---|");
        for v in &p.verdicts {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md_escape(v.publisher.as_deref().unwrap_or("")),
                md_escape(v.rating.as_deref().unwrap_or("")),
                v.date.as_deref().unwrap_or(""),
                v.lang.as_deref().unwrap_or(""),
                md_escape(v.url.as_deref().or(v.title.as_deref()).unwrap_or(""))
            );
        }
    }

    for d in &p.drafts {
        let _ = writeln!(
            o,
            "\n## Correction draft ({}{})\n",
            language_name(&d.lang),
            if d.audience_lang != d.lang {
                format!(", for a {} audience", language_name(&d.audience_lang))
            } else {
                String::new()
            }
        );
        if let Some(n) = &d.note {
            let _ = writeln!(o, "*{n}*\n");
        }
        let _ = writeln!(o, "```text\n{}\n```", d.text);
    }

    if !p.key_facts.is_empty() {
        let _ = writeln!(o, "\n## Key facts\n");
        for f in &p.key_facts {
            let _ = write!(o, "- {}", f.text);
            let src: Vec<&str> = [f.publisher.as_deref(), f.url.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if !src.is_empty() {
                let _ = write!(o, " ({})", src.join(", "));
            }
            let _ = writeln!(o);
        }
    }

    let s = &p.spread;
    let _ = writeln!(o, "\n## Where it spreads\n");
    let counts = |v: &[super::spread::Count]| {
        v.iter()
            .map(|c| format!("{} ({})", c.key, c.posts))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(o, "- platforms: {}", counts(&s.platforms));
    let _ = writeln!(o, "- languages: {}", counts(&s.languages));
    let account = |a: &super::spread::Account| {
        let who = match &a.handle {
            Some(h) => format!("{}:@{h}", a.platform),
            None => format!("{}:{}", a.platform, a.id),
        };
        format!(
            "{who} ({} post{}{})",
            a.posts,
            if a.posts == 1 { "" } else { "s" },
            a.followers
                .map(|f| format!(", {f} followers"))
                .unwrap_or_default()
        )
    };
    if !s.top_accounts.is_empty() {
        let _ = writeln!(
            o,
            "- top accounts: {}",
            s.top_accounts
                .iter()
                .map(account)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !s.top_reach.is_empty() {
        let _ = writeln!(
            o,
            "- widest reach: {}",
            s.top_reach
                .iter()
                .map(account)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !s.domains.is_empty() {
        let _ = writeln!(o, "- linked domains: {}", counts(&s.domains));
    }
    if !s.hashtags.is_empty() {
        let _ = writeln!(o, "- hashtags: {}", counts(&s.hashtags));
    }
    if !s.reshared.is_empty() {
        let _ = writeln!(o, "- most reshared posts: {}", counts(&s.reshared));
    }
    if s.networks.is_empty() {
        let _ = writeln!(o, "- coordination networks: none found among its accounts");
    } else {
        let _ = writeln!(
            o,
            "- coordination networks ({:.0}% of its posts):",
            100.0 * s.coordinated_share
        );
        for n in &s.networks {
            let shown: Vec<&str> = n.accounts.iter().take(8).map(String::as_str).collect();
            let _ = writeln!(
                o,
                "  - {}: {} accounts on {} ({} posts, {} linked pairs, {} co-shares): {}{}",
                n.id,
                n.accounts.len(),
                n.platforms.join(", "),
                n.posts,
                n.links,
                n.co_shares,
                shown.join(", "),
                if n.accounts.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            );
        }
    }

    let t = &p.timing;
    let _ = writeln!(o, "\n## Timing\n");
    let _ = writeln!(o, "Stage: **{}**. {}", t.stage.as_str(), t.recommendation);
    if !t.bursts.is_empty() {
        let _ = writeln!(o);
        for b in &t.bursts {
            let _ = writeln!(
                o,
                "- {} {} burst from {} (alert at {}{}): {} posts, {:.1} posts/hour, {:.1}× baseline, level {}",
                b.entity_kind,
                if b.entity_kind == "narrative" {
                    String::new()
                } else {
                    format!("`{}`", b.entity)
                },
                b.burst_start.to_rfc3339(),
                b.opened_at.to_rfc3339(),
                b.closed_at
                    .map(|c| format!(", ended {}", c.to_rfc3339()))
                    .unwrap_or_else(|| ", still open".into()),
                b.volume,
                b.rate_per_hour,
                b.growth_rate,
                b.level
            );
        }
    }
    o
}
