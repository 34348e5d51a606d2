//! The prebunk briefs (`prebunk/` of `pharos assess --out` and `pharos
//! prebunk --out`): an index of the storylines likely to come back and one
//! brief per storyline, each in Markdown and self-contained HTML.

use super::html::page;
use super::md::md;
use super::svg::esc;
use crate::prebunk::brief::{Brief, Prebunk};
use crate::prebunk::{Basis, Forecast};
use std::fmt::Write;

/// File stem of a storyline's brief.
pub fn stem(b: &Brief) -> String {
    b.forecast
        .storyline
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// What a forecast rests on, in words (reports and the dashboard).
pub fn basis(f: &Forecast) -> &'static str {
    match f.basis {
        Basis::Recurrence => "recurrence",
        Basis::Periodicity => "regular gaps",
        Basis::Trigger => "calendar trigger",
    }
}

/// When a storyline is expected, in words.
pub fn when(f: &Forecast, horizon_days: f64) -> String {
    match (&f.expected, &f.trigger) {
        (Some(d), Some(t)) => format!("around {} ({})", d.day(), t),
        (Some(d), None) => format!("around {}", d.day()),
        _ => format!("within {horizon_days:.0} days"),
    }
}

/// The index in Markdown.
pub fn index_md(p: &Prebunk) -> String {
    let mut s = String::from("# Prebunking: what is likely to come back\n\n");
    let _ = writeln!(
        s,
        "_{} storylines (narratives linked across time); forecast at {} for the next {:.0} days._\n",
        p.storylines,
        p.now.map(|t| t.day()).unwrap_or_else(|| "-".into()),
        p.horizon_days
    );
    if p.briefs.is_empty() {
        s.push_str("No storyline is likely to come back within the horizon.\n");
    }
    for b in &p.briefs {
        let f = &b.forecast;
        let _ = writeln!(
            s,
            "- [{}]({}.md): chance {:.2} ({}), expected {}; {} outbreaks so far",
            md(&f.title),
            stem(b),
            f.chance,
            basis(f),
            when(f, p.horizon_days),
            f.outbreaks
        );
    }
    s.push_str("\n---\nChances are ranks with reasons from each storyline's history, not calibrated probabilities (see docs/prebunking.md). Drafts are for a person to edit; nothing is published by Pharos.\n");
    s
}

/// One brief in Markdown.
pub fn brief_md(b: &Brief, horizon_days: f64) -> String {
    let f = &b.forecast;
    let mut s = format!("# Prebunk brief: {}\n\n", md(&f.title));
    let _ = writeln!(
        s,
        "Chance of a new outbreak **{:.2}** ({}), expected **{}**. `{}`\n",
        f.chance,
        basis(f),
        md(&when(f, horizon_days)),
        f.storyline
    );
    s.push_str("## Why\n\n");
    for r in &f.reasons {
        let _ = writeln!(s, "- {}", md(r));
    }
    s.push_str("\n## What is likely to be pushed\n\n");
    if !b.terms.is_empty() {
        let _ = writeln!(s, "Terms: {}\n", md(&b.terms.join(" · ")));
    }
    if !b.hashtags.is_empty() {
        let _ = writeln!(
            s,
            "Hashtags: {}\n",
            md(&b
                .hashtags
                .iter()
                .map(|h| format!("#{h}"))
                .collect::<Vec<_>>()
                .join(" "))
        );
    }
    for e in &b.examples {
        let _ = writeln!(s, "> {}\n", md(e));
    }
    let counts = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        s,
        "Languages: {}. Platforms: {}.\n",
        md(&counts(&b.languages)),
        md(&counts(&b.platforms))
    );
    s.push_str("| outbreak | from | to | posts |\n|---|---|---|---|\n");
    for (i, o) in b.outbreaks.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            i + 1,
            o.start.day(),
            o.end.day(),
            o.posts
        );
    }
    s.push_str("\n## Fact-checks that answer it\n\n");
    if b.fact_checks.is_empty() {
        s.push_str("None matched yet: the library has no fact-check its posts matched. Search for one before it returns.\n");
    }
    for c in &b.fact_checks {
        let _ = writeln!(
            s,
            "- {} ({}; {} posts matched) {}",
            md(if c.claim_text.is_empty() {
                &c.claim_id
            } else {
                &c.claim_text
            }),
            md(&c.verdicts.join(", ")),
            c.posts,
            c.urls
                .iter()
                .map(|u| format!("<{u}>"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    s.push_str("\n## DISARM techniques it has used\n\n");
    if b.techniques.is_empty() {
        s.push_str("No incident of this storyline showed one yet.\n");
    }
    for t in &b.techniques {
        let _ = writeln!(
            s,
            "- {} {} (incidents {})",
            t.t_id,
            md(&t.name),
            t.incidents
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s.push_str("\n## Prebunk drafts\n\nThey name the technique and show how it works, rather than repeat the claim.\n");
    for d in &b.drafts {
        let _ = writeln!(
            s,
            "\n### {} audience\n",
            pharos_claims::respond::draft::language_name(&d.audience)
        );
        if let Some(n) = &d.note {
            let _ = writeln!(s, "_{}_\n", md(n));
        }
        for line in d.text.lines() {
            let _ = writeln!(s, "> {line}");
        }
    }
    s.push_str("\n---\nA rank with reasons from the storyline's history, not a calibrated probability. Drafts are for a person to edit.\n");
    s
}

/// The index in HTML.
pub fn index_html(p: &Prebunk) -> String {
    let mut b = String::new();
    if p.briefs.is_empty() {
        b.push_str("<p>No storyline is likely to come back within the horizon.</p>");
    } else {
        b.push_str("<table><tr><th>storyline</th><th class=\"num\">chance</th><th>basis</th><th>expected</th><th class=\"num\">outbreaks</th></tr>");
        for x in &p.briefs {
            let f = &x.forecast;
            let _ = write!(
                b,
                "<tr><td><a href=\"{}.html\">{}</a></td><td class=\"num\">{:.2}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&stem(x)),
                esc(&f.title),
                f.chance,
                basis(f),
                esc(&when(f, p.horizon_days)),
                f.outbreaks
            );
        }
        b.push_str("</table>");
    }
    page(
        "Prebunking: what is likely to come back",
        &format!(
            "{} storylines; forecast at {} for the next {:.0} days",
            p.storylines,
            p.now.map(|t| t.day()).unwrap_or_else(|| "-".into()),
            p.horizon_days
        ),
        &b,
    )
}

/// One brief in HTML: a self-contained page.
pub fn brief_html(x: &Brief, horizon_days: f64) -> String {
    page(
        &format!("Prebunk brief: {}", x.forecast.title),
        &format!("forecast at horizon {horizon_days:.0} days"),
        &brief_body(x, horizon_days),
    )
}

/// One brief's HTML body (the dashboard shows it in its own layout); the
/// classes are those of the reports' and the dashboard's stylesheets.
pub fn brief_body(x: &Brief, horizon_days: f64) -> String {
    let f = &x.forecast;
    let mut b = String::new();
    let _ = write!(
        b,
        "<p class=\"lead\">Chance of a new outbreak <b>{:.2}</b> ({}), expected <b>{}</b>. <span class=\"muted small\">{}</span></p><h2>Why</h2><ul>",
        f.chance,
        basis(f),
        esc(&when(f, horizon_days)),
        esc(&f.storyline)
    );
    for r in &f.reasons {
        let _ = write!(b, "<li>{}</li>", esc(r));
    }
    b.push_str("</ul><h2>What is likely to be pushed</h2>");
    if !x.terms.is_empty() || !x.hashtags.is_empty() {
        b.push_str("<p>");
        for t in &x.terms {
            let _ = write!(b, "<span class=\"tag\">{}</span>", esc(t));
        }
        for h in &x.hashtags {
            let _ = write!(b, "<span class=\"tag\">#{}</span>", esc(h));
        }
        b.push_str("</p>");
    }
    for e in &x.examples {
        let _ = write!(b, "<blockquote>{}</blockquote>", esc(e));
    }
    b.push_str(
        "<table><tr><th>outbreak</th><th>from</th><th>to</th><th class=\"num\">posts</th></tr>",
    );
    for (i, o) in x.outbreaks.iter().enumerate() {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            i + 1,
            o.start.day(),
            o.end.day(),
            o.posts
        );
    }
    b.push_str("</table><h2>Fact-checks that answer it</h2>");
    if x.fact_checks.is_empty() {
        b.push_str("<p class=\"muted\">None matched yet: search for one before it returns.</p>");
    } else {
        b.push_str("<ul>");
        for c in &x.fact_checks {
            let links: Vec<String> = c
                .urls
                .iter()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .map(|u| format!("<a href=\"{}\" rel=\"noreferrer\">{}</a>", esc(u), esc(u)))
                .collect();
            let _ = write!(
                b,
                "<li>{} <span class=\"muted\">({}; {} posts matched)</span> {}</li>",
                esc(if c.claim_text.is_empty() {
                    &c.claim_id
                } else {
                    &c.claim_text
                }),
                esc(&c.verdicts.join(", ")),
                c.posts,
                links.join(" ")
            );
        }
        b.push_str("</ul>");
    }
    b.push_str("<h2>DISARM techniques it has used</h2>");
    if x.techniques.is_empty() {
        b.push_str("<p class=\"muted\">No incident of this storyline showed one yet.</p>");
    } else {
        b.push_str("<ul>");
        for t in &x.techniques {
            let _ = write!(
                b,
                "<li><b>{}</b> {} <span class=\"muted small\">({})</span></li>",
                esc(&t.t_id),
                esc(&t.name),
                esc(&t.incidents.join(", "))
            );
        }
        b.push_str("</ul>");
    }
    b.push_str("<h2>Prebunk drafts</h2><p class=\"muted\">They name the technique and show how it works, rather than repeat the claim.</p>");
    for d in &x.drafts {
        let dir = if d.lang == "ar" { " dir=\"rtl\"" } else { "" };
        let _ = write!(
            b,
            "<div class=\"card\"><h3>{} audience</h3>",
            esc(&pharos_claims::respond::draft::language_name(&d.audience))
        );
        if let Some(n) = &d.note {
            let _ = write!(b, "<p class=\"muted small\">{}</p>", esc(n));
        }
        let _ = write!(
            b,
            "<blockquote lang=\"{}\"{dir} style=\"white-space:pre-wrap\">{}</blockquote></div>",
            esc(&d.lang),
            esc(&d.text)
        );
    }
    b
}
