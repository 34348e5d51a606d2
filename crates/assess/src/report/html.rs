//! Self-contained HTML reports: inline CSS and SVG, no script, no network.
//! Print them to PDF with a headless browser (see docs/reports.md).

use super::facts::*;
use super::svg::{self, esc};
use crate::assess::Assessment;
use crate::build::{duration, join_and, plural, short_time};
use crate::incident::{Incident, Score};
use std::fmt::Write;

const CSS: &str = r#"
:root { --ink:#1c1f23; --muted:#5f6670; --line:#e2e5e9; --accent:#0b4f8a; --high:#b3261e; --mid:#b36b00; --low:#2e7d32; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0; background: #f6f7f9; }
main { max-width: 980px; margin: 0 auto; background: #fff; padding: 28px 40px 40px; }
header.doc { border-bottom: 3px solid var(--accent); margin-bottom: 18px; padding-bottom: 8px; }
header.doc h1 { margin: 0; font-size: 24px; }
header.doc .meta { color: var(--muted); font-size: 13px; }
h2 { font-size: 19px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
h4 { font-size: 14px; margin: 14px 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
p { margin: 6px 0; }
.lead { font-size: 16px; }
.muted { color: var(--muted); }
.small { font-size: 12.5px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; vertical-align: middle; }
.badge.high { background: var(--high); } .badge.moderate { background: var(--mid); } .badge.low { background: var(--low); }
.badge.conf { background: #44546a; }
.tag { display: inline-block; background: #eef2f7; border: 1px solid #d8dee6; border-radius: 4px; padding: 0 6px; margin: 1px 2px; font-size: 12.5px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 10px 28px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; page-break-inside: avoid; }
.card h3 { margin-top: 0; }
.kpis { display: flex; gap: 10px; flex-wrap: wrap; margin: 8px 0; }
.kpi { background: #f3f5f8; border-radius: 6px; padding: 6px 12px; min-width: 110px; }
.kpi b { display: block; font-size: 18px; }
.kpi span { font-size: 12px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.abcde { display: grid; grid-template-columns: 110px minmax(0, 1fr); gap: 4px 12px; margin: 6px 0; }
dl.abcde dt { font-weight: 600; }
dl.abcde dd { margin: 0; }
a.ev { font-size: 11px; color: var(--accent); text-decoration: none; border: 1px solid #c9d6e6; border-radius: 3px; padding: 0 3px; margin: 1px 0 1px 2px; display: inline-block; line-height: 1.4; }
td, dd, p, li, blockquote { overflow-wrap: anywhere; }
td.num, th.num { white-space: nowrap; overflow-wrap: normal; }
.grid > div { min-width: 0; }
ol.actions li { margin: 4px 0; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 6px 0; }
svg.net { background: #fbfcfd; border: 1px solid var(--line); border-radius: 6px; }
blockquote { margin: 6px 0; padding: 4px 12px; border-left: 3px solid var(--line); color: #333; }
.evidence td:first-child { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; word-break: break-all; width: 30%; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print { html { zoom: 0.7; } .card .kpis { display: none; } .card svg.chart { max-height: 120px; width: auto; } body { background: #fff; font-size: 13px; } main { padding: 0; max-width: none; } .card { break-inside: avoid; padding: 6px 10px; margin: 6px 0; } h2 { break-after: avoid; } h4 { margin: 6px 0 2px; } .kpi { padding: 2px 8px; min-width: 80px; } .kpi b { font-size: 13px; } .lead { font-size: 13px; } table { font-size: 11px; } th, td { padding: 2px 6px; } footer { margin-top: 10px; } }
@page { size: A4; margin: 14mm; }
"#;

pub(crate) fn page(title: &str, subtitle: &str, body: &str) -> String {
    let evidence = if title.starts_with("Analyst") {
        "Every statement points to its evidence (the small links)"
    } else {
        "The evidence behind every statement is in the analyst report"
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body><main><header class=\"doc\"><h1>{}</h1><div class=\"meta\">{}</div></header>{body}<footer>Made by Pharos from the posts in the store. {evidence}; nothing here was decided automatically. Scores are ranks with reasons, not probabilities.</footer></main></body></html>\n",
        esc(title),
        esc(title),
        esc(subtitle)
    )
}

fn period(a: &Assessment) -> String {
    let s = &a.summary;
    match (s.first_post, s.last_post) {
        (Some(f), Some(l)) => format!(
            "{} posts by {} accounts, {} to {}",
            s.posts,
            s.accounts,
            short_time(f),
            short_time(l)
        ),
        _ => "no posts".into(),
    }
}

fn badge(name: &str, s: f64) -> String {
    // Severity is coloured by level; confidence is not a warning colour.
    let class = if name == "confidence" {
        "conf"
    } else {
        level(s)
    };
    format!(
        r#"<span class="badge {class}">{} {} ({:.2})</span>"#,
        esc(name),
        level(s),
        s
    )
}

/// Links to evidence: in the analyst report they point to anchors; in the
/// briefing they are plain ids (the analyst report has the detail).
fn refs(inc: &Incident, ids: &[String], anchors: bool, max: usize) -> String {
    let mut s = String::new();
    for id in ids.iter().take(max) {
        let label = inc.evidence(id).map(|e| e.label.as_str()).unwrap_or(id);
        let short = short_ref(id);
        if anchors {
            let _ = write!(
                s,
                r##"<a class="ev" href="#{}" title="{}">{}</a>"##,
                anchor(&inc.id, id),
                esc(label),
                esc(&short)
            );
        } else {
            let _ = write!(
                s,
                r#"<a class="ev" title="{}">{}</a>"#,
                esc(label),
                esc(&short)
            );
        }
    }
    if ids.len() > max {
        let _ = write!(
            s,
            r#" <span class="muted small">+{}</span>"#,
            ids.len() - max
        );
    }
    s
}

fn short_ref(id: &str) -> String {
    let (kind, rest) = id.split_once(':').unwrap_or(("", id));
    let rest: String = if rest.chars().count() > 22 {
        let tail: String = rest
            .chars()
            .rev()
            .take(18)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    } else {
        rest.to_string()
    };
    format!("{kind} {rest}")
}

fn anchor(inc: &str, id: &str) -> String {
    let mut a = format!("{inc}-");
    for c in id.chars() {
        a.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    a
}

fn kpis(inc: &Incident) -> String {
    let peak = inc.timeline.totals().into_iter().max().unwrap_or(0) as f64 * 3600.0
        / inc.timeline.bucket_s as f64;
    let coordinated = inc.actors.iter().filter(|a| a.coordinated).count();
    let items = [
        (inc.posts.len().to_string(), "posts"),
        (inc.actors.len().to_string(), "accounts"),
        (coordinated.to_string(), "coordinated"),
        (inc.platforms.len().to_string(), "platforms"),
        (format!("{peak:.0}"), "peak posts / hour"),
        (
            duration((inc.last_seen.millis() - inc.first_seen.millis()) as f64 / 1000.0),
            "duration",
        ),
    ];
    let mut s = String::from(r#"<div class="kpis">"#);
    for (v, l) in items {
        let _ = write!(
            s,
            r#"<div class="kpi"><b>{}</b><span>{l}</span></div>"#,
            esc(&v)
        );
    }
    s.push_str("</div>");
    s
}

fn score_table(inc: &Incident, name: &str, sc: &Score) -> String {
    let mut s = format!(
        "<table><tr><th>{} term</th><th class=\"num\">value</th><th class=\"num\">weight</th><th class=\"num\">adds</th><th>why</th></tr>",
        esc(name)
    );
    for t in &sc.terms {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.3}</td><td>{} {}</td></tr>",
            esc(&t.name.replace('_', " ")),
            t.value,
            t.weight,
            t.contribution,
            esc(&t.explanation),
            refs(inc, &t.evidence, true, 4)
        );
    }
    let _ = write!(
        s,
        "<tr><th>{}</th><th class=\"num\" colspan=\"3\">{:.2}</th><th></th></tr></table>",
        esc(name),
        sc.value
    );
    s
}

/// The one-page briefing for decision-makers: every campaign in one line,
/// the two most severe in a card each (what, who with confidence, how big
/// and how fast, what was exploited, what to do now). Evidence ids are left
/// to the analyst report.
pub fn briefing(a: &Assessment) -> String {
    let mut b = String::new();
    if a.incidents.is_empty() {
        let _ = write!(
            b,
            "<p class=\"lead\">No campaign found: no coordination network, copy-paste flood, claim match or suspicious burst in {}. {} alerts were raised.</p>",
            esc(&period(a)),
            a.alerts.len()
        );
        prebunks(&mut b, a);
        return page("Briefing", &period(a), &b);
    }
    let _ = write!(
        b,
        "<p class=\"lead\"><b>{}</b> found; {} alerts raised. Most severe first.</p>",
        esc(&plural(a.incidents.len(), "campaign", "campaigns")),
        a.alerts.len()
    );
    b.push_str("<table><tr><th>campaign</th><th class=\"num\">severity</th><th class=\"num\">confidence</th><th class=\"num\">posts</th><th class=\"num\">accounts</th><th>platforms</th><th>began</th></tr>");
    const ROWS: usize = 8;
    for inc in a.incidents.iter().take(ROWS) {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&inc.title),
            inc.severity.value,
            inc.confidence.value,
            inc.posts.len(),
            inc.actors.len(),
            esc(&inc.platforms.keys().cloned().collect::<Vec<_>>().join(", ")),
            esc(&short_time(inc.first_seen))
        );
    }
    if a.incidents.len() > ROWS {
        let _ = write!(
            b,
            "<tr><td colspan=\"7\" class=\"muted\">{} more in the analyst report</td></tr>",
            a.incidents.len() - ROWS
        );
    }
    b.push_str("</table>");
    for inc in a.incidents.iter().take(2) {
        let _ = write!(
            b,
            "<section class=\"card\"><h3>{} {} {}</h3><p>{}</p>",
            esc(&inc.title),
            badge("severity", inc.severity.value),
            badge("confidence", inc.confidence.value),
            esc(&inc.summary)
        );
        let _ = write!(
            b,
            "<div class=\"grid\"><div><h4>What is happening</h4><p>{}</p><h4>Who is behind it</h4><p>{}</p><p class=\"small muted\">Confidence {:.2} ({}): {}</p></div><div><h4>How big, how fast</h4>{}{}</div></div>",
            esc(&inc.abcde.content.statement),
            esc(&inc.abcde.actor.statement),
            inc.confidence.value,
            level(inc.confidence.value),
            esc(&strongest_terms(&inc.confidence)),
            kpis(inc),
            svg::timeline(&inc.timeline, 430),
        );
        let _ = write!(
            b,
            "<h4>What has been exploited</h4><p>{}; {}; {}.{}</p>",
            esc(&join_and(
                &inc.platforms
                    .iter()
                    .map(|(p, n)| format!("{p} ({n} posts)"))
                    .collect::<Vec<_>>()
            )),
            esc(&format!(
                "languages {}",
                join_and(
                    &inc.languages
                        .iter()
                        .map(|(l, n)| format!("{l} ({n})"))
                        .collect::<Vec<_>>()
                )
            )),
            esc(&peak_hours(&hours_of_day(inc))),
            if inc.techniques.is_empty() {
                String::new()
            } else {
                format!(
                    " Techniques: {}.",
                    inc.techniques
                        .iter()
                        .map(|t| format!(
                            "<span class=\"tag\">{} {}</span>",
                            esc(&t.t_id),
                            esc(&t.name)
                        ))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        );
        b.push_str("<h4>What to do now</h4><ol class=\"actions\">");
        for (action, _) in recommendations(a, inc).into_iter().take(4) {
            let _ = write!(b, "<li>{}</li>", esc(&action));
        }
        b.push_str("</ol></section>");
    }
    prebunks(&mut b, a);
    b.push_str("<p class=\"small muted\">The evidence behind every statement, every campaign in full and every alert are in the analyst report (report.html); what was exploited and how fast it was answered is in the recovery report (recovery.html).</p>");
    page("Briefing: information environment", &period(a), &b)
}

/// Storylines likely to come back, linking the prebunk briefs.
fn prebunks(b: &mut String, a: &Assessment) {
    let p = &a.prebunk;
    if p.briefs.is_empty() {
        return;
    }
    let _ = write!(
        b,
        "<h2>Likely to come back</h2><p>{} likely to return within {:.0} days: a brief each, with prebunk drafts, in <a href=\"prebunk/index.html\">prebunk/index.html</a>.</p><ul>",
        esc(&plural(p.briefs.len(), "storyline is", "storylines are")),
        p.horizon_days
    );
    for x in p.briefs.iter().take(3) {
        let f = &x.forecast;
        let _ = write!(
            b,
            "<li><a href=\"prebunk/{}.html\">{}</a>: chance {:.2}{}</li>",
            esc(&super::prebunk::stem(x)),
            esc(&f.title),
            f.chance,
            f.expected
                .map(|d| format!(", around {}", d.day()))
                .unwrap_or_default()
        );
    }
    b.push_str("</ul>");
}

fn strongest_terms(s: &Score) -> String {
    let mut t: Vec<_> = s.terms.iter().filter(|t| t.contribution > 0.0).collect();
    t.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    t.iter()
        .take(2)
        .map(|t| t.explanation.clone())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The analyst report: every incident with its full evidence.
pub fn analyst(a: &Assessment) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<p>{} incidents, {} alerts, {} coordination networks, {} claim matches over {}.</p>",
        a.incidents.len(),
        a.alerts.len(),
        a.summary.networks,
        a.summary.claim_matches,
        esc(&period(a))
    );
    if !a.incidents.is_empty() {
        b.push_str("<table><tr><th>incident</th><th class=\"num\">severity</th><th class=\"num\">confidence</th><th class=\"num\">posts</th><th class=\"num\">accounts</th><th>first seen</th></tr>");
        for inc in &a.incidents {
            let _ = write!(
                b,
                "<tr><td><a href=\"#{}\">{}</a></td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(&inc.id),
                esc(&inc.title),
                inc.severity.value,
                inc.confidence.value,
                inc.posts.len(),
                inc.actors.len(),
                esc(&short_time(inc.first_seen))
            );
        }
        b.push_str("</table>");
    }
    for inc in &a.incidents {
        incident_section(&mut b, inc);
    }
    if !a.alerts.is_empty() {
        b.push_str("<h2>All alerts</h2><table><tr><th>opened</th><th>entity</th><th class=\"num\">posts</th><th class=\"num\">accounts</th><th class=\"num\">severity</th><th class=\"num\">flagged</th></tr>");
        for n in a.alerts.iter().take(100) {
            let al = &n.alert;
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{} <b>{}</b></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.0} %</td></tr>",
                esc(&short_time(al.opened_at)),
                esc(al.entity_kind.as_str()),
                esc(&al.entity),
                al.volume,
                al.distinct_actors,
                al.severity,
                100.0 * al.flagged_actor_share
            );
        }
        b.push_str("</table>");
        if a.alerts.len() > 100 {
            let _ = write!(
                b,
                "<p class=\"muted\">{} more in alerts.jsonl.</p>",
                a.alerts.len() - 100
            );
        }
    }
    page("Analyst report", &period(a), &b)
}

fn incident_section(b: &mut String, inc: &Incident) {
    let _ = write!(
        b,
        "<h2 id=\"{}\">{}</h2><p>{} {} <span class=\"muted small\">{}</span></p><p class=\"lead\">{}</p>",
        esc(&inc.id),
        esc(&inc.title),
        badge("severity", inc.severity.value),
        badge("confidence", inc.confidence.value),
        esc(&inc.id),
        esc(&inc.summary)
    );
    b.push_str(&kpis(inc));
    b.push_str(&svg::timeline(&inc.timeline, 900));
    b.push_str("<h3>ABCDE</h3><dl class=\"abcde\">");
    for (name, st) in [
        ("Actor", &inc.abcde.actor),
        ("Behaviour", &inc.abcde.behaviour),
        ("Content", &inc.abcde.content),
        ("Degree", &inc.abcde.degree),
        ("Effect", &inc.abcde.effect),
    ] {
        let _ = write!(
            b,
            "<dt>{name}</dt><dd>{} {}</dd>",
            esc(&st.statement),
            refs(inc, &st.evidence, true, 6)
        );
    }
    b.push_str("</dl><h3>Severity and confidence</h3>");
    b.push_str(&score_table(inc, "severity", &inc.severity));
    b.push_str(&score_table(inc, "confidence", &inc.confidence));
    if !inc.techniques.is_empty() {
        b.push_str("<h3>DISARM techniques observed</h3><table><tr><th>technique</th><th>tactic</th><th>signal</th><th>shown by</th></tr>");
        for t in &inc.techniques {
            let _ = write!(
                b,
                "<tr><td><b>{}</b> {}</td><td>{}</td><td>{}</td><td>{} {}</td></tr>",
                esc(&t.t_id),
                esc(&t.name),
                esc(t.tactic_id.as_deref().unwrap_or("")),
                esc(&t.signal.replace(['_', '-'], " ")),
                esc(&t.shown_by),
                refs(inc, &t.evidence, true, 5)
            );
        }
        b.push_str("</table>");
    }
    if !inc.narratives.is_empty() {
        b.push_str("<h3>Narratives</h3><table><tr><th>narrative</th><th class=\"num\">posts</th><th>representative post</th><th>families</th></tr>");
        for n in &inc.narratives {
            let _ = write!(
                b,
                "<tr><td>{}{} {}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(n.name()),
                if n.title.trim().is_empty() {
                    String::new()
                } else {
                    format!("<br><small>{}</small>", esc(&n.label))
                },
                refs(inc, std::slice::from_ref(&n.id), true, 1),
                n.posts,
                esc(&n.representative_text.chars().take(240).collect::<String>()),
                esc(&n
                    .families
                    .iter()
                    .map(|f| format!("{} ({})", f.key, f.posts))
                    .collect::<Vec<_>>()
                    .join(", "))
            );
        }
        b.push_str("</table>");
    }
    for n in &inc.networks {
        let _ = write!(
            b,
            "<h3>Coordination network {}</h3><p>{} accounts, {} edges (density {:.2}), {}; median {} between matched posts; {} coordinated posts. Node colour is the platform, size the account's total edge weight.</p>",
            esc(n.id.trim_start_matches("network:")),
            n.accounts.len(),
            n.edges.len(),
            n.density,
            esc(&n.kind),
            esc(&duration(n.median_time_delta_s)),
            n.coordinated_posts
        );
        let labels: std::collections::HashMap<String, String> =
            inc.actors.iter().map(|a| (a.key(), a.display())).collect();
        b.push_str(&svg::network(n, 900, 80, &labels));
        let mut edges = n.edges.clone();
        edges.sort_by(|x, y| y.weight.total_cmp(&x.weight));
        b.push_str("<table><tr><th>account</th><th>account</th><th class=\"num\">weight</th></tr>");
        let name = |k: &str| match labels.get(k) {
            Some(l) => format!("{l} ({})", k.split(':').next().unwrap_or("")),
            None => k.to_string(),
        };
        for e in edges.iter().take(12) {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.1}</td></tr>",
                esc(&name(&e.from)),
                esc(&name(&e.to)),
                e.weight
            );
        }
        b.push_str("</table>");
        if edges.len() > 12 {
            let _ = write!(
                b,
                "<p class=\"muted small\">{} more edges in incidents.json.</p>",
                edges.len() - 12
            );
        }
    }
    b.push_str("<div class=\"grid\"><div><h3>Platforms and languages</h3>");
    let mut items: Vec<(String, f64)> = inc
        .platforms
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    items.extend(
        inc.languages
            .iter()
            .map(|(k, v)| (format!("lang {k}"), *v as f64)),
    );
    b.push_str(&svg::bars(&items, 430, &|l: &str| {
        svg::colour(l).to_string()
    }));
    b.push_str("<h3>Hours of day (UTC)</h3>");
    b.push_str(&svg::hours(&hours_of_day(inc), 430));
    b.push_str("</div><div><h3>Links, domains, hashtags</h3>");
    let mut items: Vec<(String, f64)> = inc
        .domains
        .iter()
        .take(6)
        .map(|c| (c.key.clone(), c.posts as f64))
        .collect();
    items.extend(
        inc.hashtags
            .iter()
            .take(6)
            .map(|c| (format!("#{}", c.key), c.posts as f64)),
    );
    if items.is_empty() {
        b.push_str("<p class=\"muted\">None.</p>");
    } else {
        b.push_str(&svg::bars(&items, 430, &|l: &str| {
            if l.starts_with('#') {
                "#8e44ad".into()
            } else {
                "#0b4f8a".into()
            }
        }));
    }
    b.push_str("</div></div>");
    if !inc.alerts.is_empty() {
        b.push_str("<h3>Alerts</h3><table><tr><th>opened</th><th>entity</th><th class=\"num\">lead</th><th class=\"num\">severity</th><th>explanation</th></tr>");
        for al in &inc.alerts {
            let _ = write!(
                b,
                "<tr id=\"{}\"><td>{}</td><td>{} <b>{}</b></td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td class=\"small\">{}</td></tr>",
                anchor(&inc.id, &al.id),
                esc(&short_time(al.opened_at)),
                esc(&al.entity_kind),
                esc(&al.entity),
                esc(&duration(al.lead_time_s)),
                al.severity,
                esc(&al.explanation)
            );
        }
        b.push_str("</table>");
    }
    if !inc.claim_matches.is_empty() {
        b.push_str("<h3>Claim matches</h3><table><tr><th>claim</th><th>verdicts</th><th class=\"num\">confidence</th><th class=\"num\">posts</th><th>fact-checks</th></tr>");
        for m in &inc.claim_matches {
            let _ = write!(
                b,
                "<tr><td><b>{}</b> {}</td><td>{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{}</td><td class=\"small\">{}</td></tr>",
                esc(&m.claim_id),
                esc(&m.claim_text),
                esc(&m.verdicts.join(", ")),
                m.confidence,
                m.posts.len(),
                esc(&m.fact_checks.join(" "))
            );
        }
        b.push_str("</table>");
    }
    if !inc.media.is_empty() {
        b.push_str("<h3>Media</h3><table><tr><th>file</th><th>kind</th><th>hashes</th><th class=\"num\">posts</th><th class=\"num\">accounts</th><th>provenance</th></tr>");
        for m in inc.media.iter().take(40) {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"small\">SHA-256 {}<br>PDQ {} (quality {})</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"small\">{}{} {}</td></tr>",
                esc(&m.file),
                esc(&m.kind),
                esc(&m.sha256),
                esc(&m.pdq),
                m.quality,
                m.post_count,
                m.accounts,
                m.technique
                    .as_deref()
                    .map(|t| format!("<b>{}</b> ", esc(t)))
                    .unwrap_or_default(),
                esc(&m.provenance()),
                refs(inc, std::slice::from_ref(&m.id), true, 1)
            );
        }
        b.push_str("</table>");
    }
    b.push_str("<h3>Accounts</h3><table><tr><th>account</th><th>platform</th><th class=\"num\">posts</th><th class=\"num\">inauthenticity</th><th>coordinated</th><th>why</th></tr>");
    for a in inc.actors.iter().take(40) {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
            esc(&a.display()),
            esc(&a.platform),
            a.posts,
            a.inauthenticity
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "–".into()),
            if a.coordinated { "yes" } else { "" },
            esc(&a.reasons.chars().take(220).collect::<String>())
        );
    }
    b.push_str("</table>");
    if inc.actors.len() > 40 {
        let _ = write!(
            b,
            "<p class=\"muted small\">{} more accounts in incidents.json.</p>",
            inc.actors.len() - 40
        );
    }
    b.push_str("<h3>Evidence</h3><table class=\"evidence\"><tr><th>id</th><th>what</th></tr>");
    for e in &inc.evidence {
        let text = e
            .text
            .as_deref()
            .map(|t| {
                format!(
                    "<blockquote>{}</blockquote>",
                    esc(&t.chars().take(300).collect::<String>())
                )
            })
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr id=\"{}\"><td>{}</td><td>{}{}</td></tr>",
            anchor(&inc.id, &e.id),
            esc(&e.id),
            esc(&e.label),
            text
        );
    }
    let _ = write!(
        b,
        "</table><p class=\"muted small\">{} posts in all; every post id is in incidents.json.</p>",
        inc.posts.len()
    );
}

/// The recovery report: what was exploited, how fast it was seen and
/// answered, what responses changed, what to do next time.
pub fn recovery(a: &Assessment) -> String {
    let mut b = String::new();
    if a.incidents.is_empty() {
        b.push_str(
            "<p class=\"lead\">No campaign was found in this period: nothing to recover from.</p>",
        );
        return page("Recovery report", &period(a), &b);
    }
    let ex = exploited(&a.incidents);
    let _ = write!(
        b,
        "<p class=\"lead\">{} over {}. This report says which openings they used, how fast they were seen and answered, and what to change.</p>",
        esc(&plural(a.incidents.len(), "campaign", "campaigns")),
        esc(&period(a))
    );
    b.push_str("<h2>Vulnerabilities exploited</h2><div class=\"grid\"><div><h3>Platforms</h3>");
    let items: Vec<(String, f64)> = ex
        .platforms
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    b.push_str(&svg::bars(&items, 430, &|l: &str| {
        svg::colour(l).to_string()
    }));
    b.push_str("<h3>Languages</h3>");
    let items: Vec<(String, f64)> = ex
        .languages
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    b.push_str(&svg::bars(&items, 430, &|_| "#5d6d7e".to_string()));
    b.push_str("</div><div><h3>Hours (UTC)</h3>");
    b.push_str(&svg::hours(&ex.hours, 430));
    let _ = write!(b, "<p class=\"small\">{}.</p>", esc(&peak_hours(&ex.hours)));
    b.push_str("<h3>Audiences and channels</h3>");
    let mut items: Vec<(String, f64)> = ex
        .hashtags
        .iter()
        .take(5)
        .map(|(k, v)| (format!("#{k}"), *v as f64))
        .collect();
    items.extend(
        ex.domains
            .iter()
            .take(5)
            .map(|(k, v)| (k.clone(), *v as f64)),
    );
    if items.is_empty() {
        b.push_str("<p class=\"muted\">No hashtags or links.</p>");
    } else {
        b.push_str(&svg::bars(&items, 430, &|l: &str| {
            if l.starts_with('#') {
                "#8e44ad".into()
            } else {
                "#0b4f8a".into()
            }
        }));
    }
    b.push_str("</div></div><h3>Accounts that amplified most</h3><table><tr><th>account</th><th>platform</th><th class=\"num\">posts</th><th>coordinated</th></tr>");
    for (_, display, platform, posts, coord) in &ex.amplifiers {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(display),
            esc(platform),
            posts,
            if *coord { "yes" } else { "" }
        );
    }
    b.push_str("</table><h2>Detection and response</h2><table><tr><th>incident</th><th>first post</th><th class=\"num\">time to detect</th><th class=\"num\">time to respond</th><th>what the response changed</th></tr>");
    for inc in &a.incidents {
        let rs = responses_of(a, inc);
        let respond = rs
            .iter()
            .map(|r| r.time_to_respond_s)
            .reduce(f64::min)
            .map(duration)
            .unwrap_or_else(|| "no response recorded".into());
        let changed = if rs.is_empty() {
            "–".to_string()
        } else {
            rs.iter()
                .map(|r| {
                    format!(
                        "{}: {:.1} → {:.1} posts an hour (6 h before / after)",
                        if r.response.label.is_empty() {
                            "response"
                        } else {
                            &r.response.label
                        },
                        r.posts_per_hour_before,
                        r.posts_per_hour_after
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&inc.title),
            esc(&short_time(inc.first_seen)),
            esc(&time_to_detect(inc)
                .map(duration)
                .unwrap_or_else(|| "no alert".into())),
            esc(&respond),
            esc(&changed)
        );
    }
    b.push_str("</table><p class=\"small muted\">Time to detect: from the incident's first post to its first alert. Time to respond: to the first response recorded (store table <code>responses</code>).</p><h2>Recommendations</h2><ol class=\"actions\">");
    for l in lessons(a) {
        let _ = write!(b, "<li>{}</li>", esc(&l));
    }
    b.push_str("</ol>");
    page("Recovery report", &period(a), &b)
}
