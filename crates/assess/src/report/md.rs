//! Markdown briefing (for mail, chat and tickets).

use super::facts::*;
use crate::assess::Assessment;
use crate::build::{duration, join_and, plural, short_time};
use crate::incident::Incident;
use std::fmt::Write;

/// Escapes the characters Markdown would read as markup in running text.
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Media files listed per incident in the briefing.
const MEDIA_LISTED: usize = 8;

fn refs(ids: &[String], max: usize) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let mut v: Vec<String> = ids.iter().take(max).map(|i| format!("`{i}`")).collect();
    if ids.len() > max {
        v.push(format!("+{}", ids.len() - max));
    }
    format!(" [{}]", v.join(", "))
}

/// The one-page briefing in Markdown.
pub fn briefing(a: &Assessment) -> String {
    let mut s = String::from("# Briefing: information environment\n\n");
    let period = match (a.summary.first_post, a.summary.last_post) {
        (Some(f), Some(l)) => format!(
            "{} posts by {} accounts, {} to {}",
            a.summary.posts,
            a.summary.accounts,
            short_time(f),
            short_time(l)
        ),
        _ => "no posts".into(),
    };
    let _ = writeln!(s, "_{}_\n", md(&period));
    if a.incidents.is_empty() {
        let _ = writeln!(
            s,
            "No campaign found: no coordination network, copy-paste flood, claim match or suspicious burst. {} alerts were raised.\n",
            a.alerts.len()
        );
        templates(&mut s, a);
        ai_media(&mut s, a);
        prebunks(&mut s, a);
        return s;
    }
    let _ = writeln!(
        s,
        "**{}** found; the most severe first. {} alerts were raised.\n",
        plural(a.incidents.len(), "campaign", "campaigns"),
        a.alerts.len()
    );
    for (k, inc) in a.incidents.iter().take(3).enumerate() {
        incident(&mut s, a, &format!("## {}.", k + 1), inc);
    }
    if a.incidents.len() > 3 {
        let _ = writeln!(
            s,
            "{} more in the analyst report (report.html): {}.\n",
            a.incidents.len() - 3,
            md(&a.incidents[3..]
                .iter()
                .map(|i| i.title.clone())
                .collect::<Vec<_>>()
                .join("; "))
        );
    }
    templates(&mut s, a);
    ai_media(&mut s, a);
    prebunks(&mut s, a);
    s.push_str("---\nEvidence ids in brackets point to `incidents.json` and the analyst report. Scores are ranks with reasons, not probabilities; nothing was decided automatically.\n");
    s
}

/// Media files that declare themselves AI-generated, in incidents or not.
fn ai_media(s: &mut String, a: &Assessment) {
    if a.ai_media.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## AI-generated media\n\n{} declare generative AI as their source (C2PA or XMP; `pharos media scan`). Alone this raises no incident: generators label their output; it matters where accounts push such pictures as real.\n",
        plural(a.ai_media.len(), "file", "files")
    );
    for m in a.ai_media.iter().take(10) {
        let _ = writeln!(
            s,
            "- {} {} {}, {} by {}: {}",
            m.technique.as_deref().unwrap_or(""),
            m.kind,
            md(&m.display()),
            plural(m.post_count as usize, "post", "posts"),
            plural(m.accounts as usize, "account", "accounts"),
            md(&m.provenance())
        );
    }
    if a.ai_media.len() > 10 {
        let _ = writeln!(s, "- and {} more", a.ai_media.len() - 10);
    }
    s.push('\n');
}

/// Storylines likely to come back (the prebunk briefs), the three likeliest.
fn prebunks(s: &mut String, a: &Assessment) {
    let p = &a.prebunk;
    if p.briefs.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## Likely to come back

{} likely to return within {:.0} days; a brief each, with prebunk drafts, in [prebunk/index.md](prebunk/index.md).
",
        plural(p.briefs.len(), "storyline is", "storylines are"),
        p.horizon_days
    );
    for b in p.briefs.iter().take(3) {
        let f = &b.forecast;
        let _ = writeln!(
            s,
            "- [{}](prebunk/{}.md): chance {:.2}{}",
            md(&f.title),
            super::prebunk::stem(b),
            f.chance,
            f.expected
                .map(|d| format!(", around {}", d.day()))
                .unwrap_or_default()
        );
    }
    s.push('\n');
}

/// Shared-template networks (coordination evidence, DISARM T0092), the
/// five with the most accounts.
fn templates(s: &mut String, a: &Assessment) {
    if a.templates.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## Accounts signing their posts alike\n\n{} signed by several accounts: possibly one operator behind them (DISARM T0092 Build Network). Coordination evidence, not a narrative.\n",
        plural(a.templates.len(), "line is", "lines are")
    );
    for t in a.templates.iter().take(5) {
        let names: Vec<String> = t
            .sources
            .iter()
            .take(8)
            .map(|x| md(x.name.as_deref().unwrap_or(&x.actor)))
            .collect();
        let _ = writeln!(
            s,
            "- \u{201c}{}\u{201d}: {} ({}), {} posts",
            md(&t.text),
            plural(t.sources.len(), "account", "accounts"),
            names.join(", "),
            t.posts
        );
    }
    s.push('\n');
}

/// The briefing of one incident alone (what the server answers at
/// `/api/reports/{id}`): its section of [`briefing`], with the actions its
/// evidence calls for (an assessment's drafted corrections and measured
/// responses are not stored with the incident).
pub fn incident_briefing(inc: &Incident) -> String {
    let a = Assessment {
        summary: Default::default(),
        incidents: Vec::new(),
        alerts: Vec::new(),
        responses: Vec::new(),
        drafts: Default::default(),
        templates: Vec::new(),
        networks: None,
        ai_media: Vec::new(),
        prebunk: Default::default(),
    };
    let mut s = String::new();
    incident(&mut s, &a, "#", inc);
    s.push_str("---\nEvidence ids in brackets point to the incident's evidence (`/api/incidents/ID`). Scores are ranks with reasons, not probabilities; nothing was decided automatically.\n");
    s
}

fn incident(s: &mut String, a: &Assessment, heading: &str, inc: &Incident) {
    let _ = writeln!(
        s,
        "{heading} {}\n\nSeverity **{:.2}** ({}), confidence **{:.2}** ({}) · `{}`\n\n{}\n",
        md(&inc.title),
        inc.severity.value,
        level(inc.severity.value),
        inc.confidence.value,
        level(inc.confidence.value),
        inc.id,
        md(&inc.summary)
    );
    let _ = writeln!(
        s,
        "- **What is happening:** {}{}",
        md(&inc.abcde.content.statement),
        refs(&inc.abcde.content.evidence, 3)
    );
    let _ = writeln!(
        s,
        "- **Who is behind it:** {}{}",
        md(&inc.abcde.actor.statement),
        refs(&inc.abcde.actor.evidence, 3)
    );
    let peak = inc.timeline.totals().into_iter().max().unwrap_or(0) as f64 * 3600.0
        / inc.timeline.bucket_s as f64;
    let _ = writeln!(
        s,
        "- **How big, how fast:** {} posts, {} accounts, {} over {}, peak {:.0} posts an hour{}.",
        inc.posts.len(),
        inc.actors.len(),
        md(&join_and(
            &inc.platforms.keys().cloned().collect::<Vec<_>>()
        )),
        duration((inc.last_seen.millis() - inc.first_seen.millis()) as f64 / 1000.0),
        peak,
        time_to_detect(inc)
            .map(|t| format!("; first alert {} after its first post", duration(t)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "- **What has been exploited:** {}; {}; {}.",
        md(&join_and(
            &inc.platforms
                .iter()
                .map(|(p, n)| format!("{p} ({n})"))
                .collect::<Vec<_>>()
        )),
        md(&format!(
            "languages {}",
            join_and(
                &inc.languages
                    .iter()
                    .map(|(l, n)| format!("{l} ({n})"))
                    .collect::<Vec<_>>()
            )
        )),
        md(&peak_hours(&hours_of_day(inc)))
    );
    if !inc.techniques.is_empty() {
        let _ = writeln!(
            s,
            "- **Techniques (DISARM):** {}",
            inc.techniques
                .iter()
                .map(|t| format!("{} {}{}", t.t_id, md(&t.name), refs(&t.evidence, 2)))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if !inc.media.is_empty() {
        s.push_str("- **Pictures (media scan):**\n");
        for m in inc.media.iter().take(MEDIA_LISTED) {
            let _ = writeln!(
                s,
                "  - {} {}, PDQ `{}`, {}: {} `{}`",
                m.kind,
                md(&m.display()),
                m.pdq,
                plural(m.post_count as usize, "post", "posts"),
                md(&m.provenance()),
                m.id
            );
        }
        if inc.media.len() > MEDIA_LISTED {
            let _ = writeln!(s, "  - and {} more files", inc.media.len() - MEDIA_LISTED);
        }
    }
    s.push_str("- **What to do now:**\n");
    for (i, (action, ev)) in recommendations(a, inc).into_iter().enumerate() {
        let _ = writeln!(s, "  {}. {}{}", i + 1, md(&action), refs(&ev, 2));
    }
    s.push('\n');
}
