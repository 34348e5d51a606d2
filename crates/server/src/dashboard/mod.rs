//! The dashboard: server-rendered pages with SVG charts, one stylesheet and
//! one small script (the network page's click handler), all embedded in the
//! binary. Nothing is fetched from elsewhere, so it works offline.
//!
//! Pages: overview (`/`), narratives (`/narratives`, `/narratives/{id}`,
//! with matched fact-checks and the response pack), networks (`/networks`,
//! `/networks/{id}`), alerts, search, the claims library (`/claims`),
//! incidents, and for the team the storylines likely to come back with
//! their prebunk briefs (`/prebunk`, `/prebunk/{id}`), and thumbnails of
//! the pictures posts reference (`/media/thumbnail`, team only: `media`). They sit behind the same access check as the API (the token
//! comes from the `pharos_token` cookie set at `/login`) and the same TLP rules.

pub mod media;
pub mod svg;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::Q;
use crate::state::Shared;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use pharos_store::Store;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use svg::esc;

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");

/// An error shown as a page.
pub struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = format!(
            "<!doctype html><meta charset=utf-8><title>Pharos: {}</title><link rel=stylesheet href=/static/app.css><main><div class=card><h1>{} {}</h1><p>{}</p><p><a href=/>Overview</a></p></div></main>",
            self.0.status.as_u16(),
            self.0.status.as_u16(),
            esc(self.0.status.canonical_reason().unwrap_or("")),
            esc(&self.0.message)
        );
        (self.0.status, Html(body)).into_response()
    }
}

type Page = Result<Html<String>, PageError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(overview))
        .route("/narratives", get(narratives))
        .route("/narratives/{id}", get(narrative))
        .route("/narratives/{id}/factchecks", get(narrative_factchecks))
        .route("/networks", get(networks))
        .route("/networks/{id}", get(network))
        .route("/alerts", get(alerts))
        .route("/search", get(search))
        .route("/claims", get(claims))
        .route("/incidents", get(incidents))
        .route("/incidents/{id}", get(incident))
        .route("/prebunk", get(prebunk))
        .route("/prebunk/{id}", get(prebunk_brief))
        .route("/media/thumbnail", get(media::thumbnail))
}

/// Pages anyone may load: the login form and the static files.
pub fn open_routes() -> Router<Shared> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        .route(
            "/static/app.css",
            get(|| async { static_file(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/app.js",
            get(|| async { static_file(JS, "text/javascript; charset=utf-8") }),
        )
}

fn static_file(body: &'static str, ct: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

fn layout(
    title: &str,
    on: &str,
    who: &Principal,
    tlp: &crate::tlp::Marking,
    body: &str,
) -> Html<String> {
    let nav = [
        ("/", "Overview"),
        ("/narratives", "Narratives"),
        ("/networks", "Networks"),
        ("/alerts", "Alerts"),
        ("/incidents", "Incidents"),
        ("/claims", "Claims"),
        ("/prebunk", "Prebunk"),
        ("/search", "Search"),
    ];
    let mut links = String::new();
    for (href, name) in nav {
        // Prebunk briefs are the team's working material.
        if href == "/prebunk" && who.role == crate::auth::Role::Partner {
            continue;
        }
        let _ = write!(
            links,
            "<a href=\"{href}\"{}>{name}</a>",
            if on == href { " class=on" } else { "" }
        );
    }
    Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><title>{} · Pharos</title><link rel=stylesheet href=/static/app.css></head><body><header><span class=brand>Pharos</span>{links}<span class=who>{} · {}{} · <span class=\"tlp {}\">{}</span> · <a href=/logout>sign out</a></span></header><main>{body}</main><script src=/static/app.js defer></script></body></html>",
        esc(title),
        esc(&who.name),
        who.role.as_str(),
        who.org
            .as_deref()
            .map(|o| format!(" of {}", esc(o)))
            .unwrap_or_default(),
        tlp.tlp.as_str(),
        tlp.tlp.label(),
    ))
}

fn fmt_n(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sev(s: f64) -> String {
    let c = if s >= 0.7 {
        "#b91c1c"
    } else if s >= 0.5 {
        "#d97706"
    } else {
        "#4b5563"
    };
    format!("<span class=sev style=\"background:{c}\">{s:.2}</span>")
}

fn short(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max).collect::<String>() + "…"
    }
}

fn alert_rows(list: &[pharos_alerts::Notification]) -> String {
    if list.is_empty() {
        return "<p class=muted>No alerts.</p>".into();
    }
    let mut s = String::from(
        "<table><tr><th>Severity</th><th>What</th><th class=num>Posts</th><th class=num>Accounts</th><th>Opened</th><th>Status</th></tr>",
    );
    for n in list {
        let a = &n.alert;
        let what = if a.entity_kind.as_str() == "narrative" {
            format!(
                "narrative <a href=\"/narratives/{0}\">{0}</a>",
                esc(&a.entity)
            )
        } else {
            format!(
                "{} <b>{}</b>",
                a.entity_kind.as_str(),
                esc(&short(&a.entity, 70))
            )
        };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{what}<div class=muted>{}</div></td><td class=num>{}</td><td class=num>{}</td><td>{}</td><td>{}</td></tr>",
            sev(a.severity),
            esc(&short(&a.explanation, 160)),
            a.volume,
            a.distinct_actors,
            a.opened_at.to_rfc3339().get(..16).unwrap_or(""),
            if a.closed_at.is_some() {
                "closed"
            } else {
                "<b>open</b>"
            }
        );
    }
    s.push_str("</table>");
    s
}

fn narrative_rows(list: &[&pharos_analysis::narratives::NarrativeSummary]) -> String {
    if list.is_empty() {
        return "<p class=muted>No narratives yet.</p>".into();
    }
    let mut s = String::from(
        "<table><tr><th>Narrative</th><th class=num>Posts</th><th class=num>Growth</th><th>Platforms</th><th>Languages</th></tr>",
    );
    for n in list {
        let _ = write!(
            s,
            "<tr><td><a href=\"/narratives/{}\">{}</a><div class=muted>{}</div></td><td class=num>{}</td><td class=num>×{:.1}</td><td>{}</td><td>{}</td></tr>",
            n.id,
            esc(&short(n.name(), 120)),
            esc(&short(&n.label.text, 90)),
            fmt_n(n.total_posts),
            n.growth,
            n.platforms
                .keys()
                .map(|k| format!("<span class=tag>{}</span>", esc(k)))
                .collect::<String>(),
            n.languages
                .keys()
                .map(|k| format!("<span class=tag>{}</span>", esc(k)))
                .collect::<String>(),
        );
    }
    s.push_str("</table>");
    s
}

async fn overview(State(st): State<Shared>, Extension(who): Extension<Principal>) -> Page {
    let tlp = st.check_collection(&who)?;
    let stats = st.stats(8).await?;
    let st2 = st.clone();
    let w = who.clone();
    let mut incidents = st.read(move |s| visible_incidents(&st2, s, &w)).await?;
    incidents.truncate(5);
    let cl = st.clearance_of(&who).await?;
    let (ready, narratives, alerts, nets) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        // Open alerts first (most severe first), then the most severe
        // closed ones. Counts are of what the reader sees.
        let open = s
            .alerts
            .values()
            .filter(|n| n.alert.closed_at.is_none() && cl.sees_alert(n))
            .count();
        let mut alerts: Vec<_> = s
            .alerts
            .values()
            .filter(|n| cl.sees_alert(n))
            .cloned()
            .collect();
        alerts.sort_by(|a, b| {
            a.alert
                .closed_at
                .is_some()
                .cmp(&b.alert.closed_at.is_some())
                .then(b.alert.severity.total_cmp(&a.alert.severity))
        });
        alerts.truncate(8);
        (
            s.ready,
            s.narratives.clone(),
            (open, alerts),
            s.coordination
                .as_ref()
                .map(|r| r.communities.iter().filter(|n| cl.sees_network(n)).count())
                .unwrap_or(0),
        )
    };
    // Store-wide counts only for a reader who sees every post (issue 14,
    // finding 2): a partner never learns how many posts it may not see.
    let empty = pharos_store::Stats::default();
    let whole = cl.sees_every_post();
    let stats = if whole { &*stats } else { &empty };
    let by_platform: Vec<(String, u64)> = stats
        .by_platform
        .iter()
        .map(|c| (c.key.clone(), c.count))
        .collect();
    let by_lang: Vec<(String, u64)> = stats
        .by_language
        .iter()
        .take(10)
        .map(|c| (c.key.clone(), c.count))
        .collect();
    let days: Vec<String> = stats
        .by_day
        .iter()
        .map(|c| c.key.get(5..).unwrap_or(&c.key).to_string())
        .collect();
    let day_series = vec![(
        "posts".to_string(),
        stats.by_day.iter().map(|c| c.count).collect::<Vec<_>>(),
    )];
    let (open, alerts) = alerts;
    let seen: Vec<_> = narratives.iter().filter(|n| cl.sees_narrative(n)).collect();
    let n_narratives = seen.len();
    let top: Vec<_> = seen.into_iter().take(8).collect();
    let count = |n: u64| {
        if whole { fmt_n(n) } else { "-".to_string() }
    };
    let body = format!(
        "<h1>Overview</h1>{}<div class=kpis><div class=kpi><b>{}</b><span>posts</span></div><div class=kpi><b>{}</b><span>accounts</span></div><div class=kpi><b>{}</b><span>narratives</span></div><div class=kpi><b>{}</b><span>coordination networks</span></div><div class=kpi><b>{}</b><span>open alerts</span></div><div class=kpi><b>{}</b><span>{} to {}</span></div></div>
        <div class=grid><div class=card><h2>Volume by platform</h2>{}</div><div class=card><h2>Volume by language</h2>{}</div>
        <div class=\"card wide\"><h2>Posts per day (UTC)</h2>{}</div>
        <div class=\"card wide\" id=active-alerts><h2>Alerts, open first</h2>{}</div>
        <div class=\"card wide\"><h2>Narratives, largest and fastest-growing first</h2>{}<p><a href=/narratives>All narratives →</a></p></div>
        <div class=\"card wide\" id=newest-incidents><h2>Newest incidents</h2>{}<p><a href=/incidents>All incidents →</a></p></div></div>",
        if ready { String::new() } else { "<p class=note>Reading the store: lists fill in as the analysis catches up.</p>".into() },
        count(stats.posts),
        count(stats.actors),
        fmt_n(n_narratives as u64),
        nets,
        open,
        stats.by_day.len(),
        esc(stats.first.as_deref().and_then(|f| f.get(..10)).unwrap_or("-")),
        esc(stats.last.as_deref().and_then(|f| f.get(..10)).unwrap_or("-")),
        svg::bars(&by_platform, 520),
        svg::bars(&by_lang, 520),
        svg::stacked(&days, &day_series, 1180, 200),
        alert_rows(&alerts),
        narrative_rows(&top),
        incident_rows(&incidents),
    );
    Ok(layout("Overview", "/", &who, &tlp, &body))
}

#[derive(Deserialize, Default)]
struct TextQuery {
    q: Option<String>,
}

async fn narratives(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<TextQuery>,
) -> Page {
    let tlp = st.check_collection(&who)?;
    let all = st
        .snapshot
        .read()
        .map_err(ApiError::internal)?
        .narratives
        .clone();
    let cl = st.clearance_of(&who).await?;
    let words: Vec<String> =
        q.q.as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
    let list: Vec<_> = all
        .iter()
        .filter(|n| cl.sees_narrative(n))
        .filter(|n| {
            let hay = format!("{} {}", n.title, n.label.text).to_lowercase();
            words.iter().all(|w| hay.contains(w))
        })
        .take(200)
        .collect();
    let body = format!(
        "<h1>Narratives</h1><form class=search><input type=search name=q placeholder=\"words in the label\" value=\"{}\"><button class=btn>Filter</button></form><div class=card>{}</div>",
        esc(q.q.as_deref().unwrap_or("")),
        narrative_rows(&list)
    );
    Ok(layout("Narratives", "/narratives", &who, &tlp, &body))
}

fn post_html(p: &pharos_core::Post) -> String {
    format!(
        "<div class=post><div class=meta>{} · {} · {} · {}{}</div><div>{}</div></div>",
        esc(p.time.to_rfc3339().get(..19).unwrap_or("")),
        esc(&p.platform),
        esc(p
            .actor
            .handle
            .as_deref()
            .map(|h| format!("@{h}"))
            .as_deref()
            .unwrap_or(&p.actor.id)),
        esc(p.lang.as_deref().unwrap_or("und")),
        p.hashtags
            .iter()
            .map(|h| format!(" <span class=tag>#{}</span>", esc(h)))
            .collect::<String>(),
        esc(&p.text)
    )
}

async fn narrative(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    st.check_collection(&who)?;
    let id = crate::api::analysis::parse_id(&id, "narrative")?;
    let (n, keys) = crate::api::analysis::narrative_of(&st, id)?;
    let st2 = st.clone();
    let w = who.clone();
    let (tlp, posts) = st
        .read(move |s| {
            let cl = st2.clearance(s, &w)?;
            let m = cl.check("narrative", &id.to_string())?;
            let mut out = Vec::new();
            for (p, i) in keys.iter().rev() {
                if let Some(post) = s.get(p, i)?
                    && cl.sees_post(&post)
                {
                    out.push(post);
                }
            }
            Ok((m, out))
        })
        .await?;
    // Matched fact-checks and the response pack need a read of the store:
    // drawn by `/narratives/{id}/factchecks`, which the page's script loads.
    let claim_sections = format!(
        "<div class=\"card wide\" id=factchecks-loading data-src=\"/narratives/{id}/factchecks\"><h2>Matched fact-checks and response pack</h2><p class=muted><span class=spinner></span>Matching the narrative's posts against the fact-check library…</p><noscript><p><a href=\"/narratives/{id}/factchecks\">Open them</a></p></noscript></div>"
    );
    // Timeline: hourly bins per platform (summed over languages).
    let mut hours: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
    let mut platforms: Vec<String> = Vec::new();
    for s in &n.timeline {
        if !platforms.contains(&s.platform) {
            platforms.push(s.platform.clone());
        }
        for b in &s.bins {
            *hours
                .entry(b.hour.millis())
                .or_default()
                .entry(s.platform.clone())
                .or_default() += b.posts;
        }
    }
    // Fill empty hours between the first and the last so time reads evenly.
    if let (Some(&first), Some(&last)) = (hours.keys().next(), hours.keys().last()) {
        let span = (last - first) / 3_600_000;
        if span <= 24 * 60 {
            let mut t = first;
            while t <= last {
                hours.entry(t).or_default();
                t += 3_600_000;
            }
        }
    }
    let bins: Vec<String> = hours
        .keys()
        .map(|t| {
            pharos_core::EventTime(*t)
                .to_rfc3339()
                .get(5..13)
                .unwrap_or("")
                .replace('T', " ")
                + "h"
        })
        .collect();
    let series: Vec<(String, Vec<u64>)> = platforms
        .iter()
        .map(|p| {
            (
                p.clone(),
                hours
                    .values()
                    .map(|m| m.get(p).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    let langs: Vec<(String, u64)> = {
        let mut v: Vec<_> = n.languages.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        v
    };
    let counted = |v: &[pharos_analysis::narratives::Counted], link: &dyn Fn(&str) -> String| {
        if v.is_empty() {
            return "<p class=muted>None.</p>".to_string();
        }
        let mut s = String::from("<table>");
        for c in v.iter().take(10) {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=num>{}</td></tr>",
                link(&c.key),
                c.posts
            );
        }
        s + "</table>"
    };
    let actor_link = |k: &str| match k.split_once(':') {
        Some((p, a)) => format!(
            "<a href=\"/search?actor={}\">{}</a>",
            esc(&format!("{p}:{a}")),
            esc(k)
        ),
        None => esc(k),
    };
    let plain = |k: &str| esc(k);
    let tag_link = |k: &str| format!("<a href=\"/search?hashtag={}\">#{}</a>", esc(k), esc(k));
    let rep = n
        .label
        .representative
        .as_ref()
        .map(|r| {
            format!(
                "<blockquote class=card>{}<div class=muted>{} · {} · {}</div></blockquote>",
                esc(&r.text),
                esc(&r.platform),
                esc(&r.actor),
                esc(&r.time.to_rfc3339())
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1 id=narrative-title>{}</h1><p class=muted id=narrative-terms>{}</p>{rep}<div class=kpis><div class=kpi><b>{}</b><span>posts</span></div><div class=kpi><b>×{:.1}</b><span>growth (last 6 h)</span></div><div class=kpi><b>{}</b><span>near-duplicate families</span></div><div class=kpi><b>{}</b><span>first seen</span></div></div>
        <p><a class=btn id=export-stix href=\"/api/stix/export?narrative={}\" download>Export STIX bundle</a> <a class=\"btn secondary\" href=\"/api/narratives/{}\">JSON</a></p>
        <div class=grid><div class=\"card wide\"><h2>Timeline (posts per hour, by platform)</h2>{}</div>
        <div class=card><h2>Languages</h2>{}</div>{}<div class=card><h2>Actors</h2>{}</div>
        <div class=card><h2>Hashtags</h2>{}</div><div class=card><h2>Links</h2>{}</div>
        {claim_sections}
        <div class=\"card wide\" id=top-posts><h2>Newest posts</h2>{}</div></div>",
        esc(n.name()),
        esc(&n.label.text),
        fmt_n(n.total_posts),
        n.growth,
        n.families,
        esc(n.first_seen.to_rfc3339().get(..16).unwrap_or("")),
        n.id,
        n.id,
        svg::stacked(&bins, &series, 1180, 220),
        svg::bars(&langs, 520),
        by_language_html(&n.by_language),
        counted(&n.actors, &actor_link),
        counted(&n.hashtags, &tag_link),
        counted(&n.links, &plain),
        if posts.is_empty() { "<p class=muted>None kept.</p>".to_string() } else { posts.iter().map(post_html).collect() },
    );
    Ok(layout(
        &format!("Narrative {}", n.id),
        "/narratives",
        &who,
        &tlp,
        &body,
    ))
}

async fn networks(State(st): State<Shared>, Extension(who): Extension<Principal>) -> Page {
    let tlp = st.check_collection(&who)?;
    let (report, at, err) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (
            s.coordination.clone(),
            s.coordination_at.clone(),
            s.coordination_error.clone(),
        )
    };
    let cl = st.clearance_of(&who).await?;
    let mut body = String::from("<h1>Coordination networks</h1>");
    if let Some(e) = err {
        let _ = write!(body, "<p class=note>{}</p>", esc(&e));
    }
    match report {
        None => {
            body.push_str("<p class=note>Not computed yet: the analysis is reading the store.</p>")
        }
        Some(r) => {
            // The run's counts only to a reader who sees every object.
            let counts = if cl.sees_everything() {
                format!(
                    " {} accounts, {} edges, {} networks.",
                    r.summary.accounts, r.summary.edges, r.summary.communities
                )
            } else {
                String::new()
            };
            let _ = write!(
                body,
                "<p class=muted>Accounts that reshared the same post, shared the same link, text, hashtag or picture within seconds to minutes, again and again, or that sign their posts with one shared template line (the networks incidents name); computed {}.{}</p><div class=card><table><tr><th>Network</th><th>Evidence</th><th class=num>Accounts</th><th class=num>Edges</th><th class=num>Median Δt (s)</th><th>Platforms</th><th>Active</th></tr>",
                esc(at.as_deref().unwrap_or("")),
                counts
            );
            for n in r
                .communities
                .iter()
                .filter(|n| cl.sees_network(n))
                .take(200)
            {
                let _ = write!(
                    body,
                    "<tr><td><a href=\"/networks/{0}\">Network {0}</a></td><td>{7}</td><td class=num>{1}</td><td class=num>{2}</td><td class=num>{3}</td><td>{4}</td><td>{5} – {6}</td></tr>",
                    n.id,
                    n.accounts,
                    n.edges,
                    // A template is no timing: its Δt says nothing.
                    match (&n.template, n.median_time_delta) {
                        (Some(_), _) | (None, None) => "-".to_string(),
                        (None, Some(t)) => format!("{t:.0}"),
                    },
                    n.platforms
                        .iter()
                        .map(|c| format!("<span class=tag>{}</span>", esc(&c.value)))
                        .collect::<String>(),
                    esc(n
                        .first_activity
                        .as_deref()
                        .and_then(|t| t.get(..16))
                        .unwrap_or("")),
                    esc(n
                        .last_activity
                        .as_deref()
                        .and_then(|t| t.get(..16))
                        .unwrap_or("")),
                    network_evidence(n),
                );
            }
            body.push_str("</table></div>");
        }
    }
    Ok(layout("Networks", "/networks", &who, &tlp, &body))
}

/// A story told in several languages: its headline and terms in each
/// (issue 15), most posts first; nothing for a one-language narrative.
fn by_language_html(v: &[pharos_analysis::narratives::LanguageView]) -> String {
    if v.len() < 2 {
        return String::new();
    }
    let mut s = String::from(
        "<div class=\"card wide\" id=by-language><h2>In each language</h2><table><tr><th>Language</th><th class=num>Posts</th><th>Title</th><th>Terms</th></tr>",
    );
    for l in v.iter().take(12) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=num>{}</td><td>{}</td><td class=muted>{}</td></tr>",
            esc(&l.lang),
            fmt_n(l.posts),
            esc(&l.title),
            esc(&l.label)
        );
    }
    s + "</table></div>"
}

/// What made a network, for its row: the template line its accounts sign
/// with (cut to 80 characters), or its layers, heaviest first.
fn network_evidence(n: &pharos_analysis::coordination::report::NetworkReport) -> String {
    match &n.template {
        Some(line) => {
            let cut: String = line.chars().take(80).collect();
            let more = if cut.len() < line.len() { "…" } else { "" };
            format!(
                "<span class=tag>shared template</span> <q>{}{more}</q>",
                esc(&cut)
            )
        }
        None => n
            .layers
            .iter()
            .map(|l| format!("<span class=tag>{}</span>", esc(l)))
            .collect(),
    }
}

/// Most accounts drawn in one graph (the strongest ones).
const MAX_NODES: usize = 150;

async fn network(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    st.check_collection(&who)?;
    let id = crate::api::analysis::parse_network_id(&id)?;
    let st2 = st.clone();
    let w = who.clone();
    let tlp = st
        .read(move |s| st2.clearance(s, &w)?.check("network", &id.to_string()))
        .await?;
    let d = crate::api::analysis::network_of(&st, id)?;
    let mut accounts = d.accounts.clone();
    accounts.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then_with(|| a.account.cmp(&b.account))
    });
    accounts.truncate(MAX_NODES);
    let index: std::collections::HashMap<&str, usize> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account.as_str(), i))
        .collect();
    let nodes: Vec<(String, String, f64, usize)> = accounts
        .iter()
        .map(|a| {
            (
                a.account.clone(),
                format!(
                    "{}: {} posts, {} coordinated, degree {}",
                    a.account, a.posts, a.coordinated_posts, a.degree
                ),
                a.strength,
                0,
            )
        })
        .collect();
    let edges: Vec<(usize, usize, f64)> = d
        .edges
        .iter()
        .filter_map(|e| {
            Some((
                *index.get(e.from.as_str())?,
                *index.get(e.to.as_str())?,
                e.weight,
            ))
        })
        .collect();
    let n = &d.network;
    let body = format!(
        "<h1>Coordination network {}</h1><div class=kpis><div class=kpi><b>{}</b><span>accounts</span></div><div class=kpi><b>{}</b><span>edges</span></div><div class=kpi><b>{}</b><span>median seconds between coordinated posts</span></div><div class=kpi><b>{}</b><span>coordinated posts</span></div></div>
        <p><a class=btn id=export-stix href=\"/api/stix/export?network={}\" download>Export STIX bundle</a> <a class=\"btn secondary\" href=\"/api/networks/{}\">JSON</a> <span class=muted>{}</span></p>
        <div class=split data-network=\"{}\"><div class=card><h2>Accounts and who coordinated with whom</h2><p class=muted>Click an account or a line to see the posts behind it.</p>{}</div><div class=card id=evidence><p class=muted>Click a node or an edge.</p></div></div>",
        n.id,
        n.accounts,
        n.edges,
        n.median_time_delta.map_or("-".into(), |t| format!("{t:.0}")),
        n.coordinated_posts,
        n.id,
        n.id,
        if d.accounts.len() > MAX_NODES { format!("showing the {MAX_NODES} strongest of {} accounts", d.accounts.len()) } else { String::new() },
        n.id,
        svg::graph(&nodes, &edges, 760, 560),
    );
    Ok(layout(
        &format!("Network {}", n.id),
        "/networks",
        &who,
        &tlp,
        &body,
    ))
}

async fn alerts(State(st): State<Shared>, Extension(who): Extension<Principal>) -> Page {
    let tlp = st.check_collection(&who)?;
    let cl = st.clearance_of(&who).await?;
    let mut list: Vec<_> = st
        .snapshot
        .read()
        .map_err(ApiError::internal)?
        .alerts
        .values()
        .filter(|n| cl.sees_alert(n))
        .cloned()
        .collect();
    list.sort_by(|a, b| {
        a.alert
            .closed_at
            .is_some()
            .cmp(&b.alert.closed_at.is_some())
            .then(b.alert.severity.total_cmp(&a.alert.severity))
    });
    list.truncate(300);
    let body = format!(
        "<h1>Alerts</h1><p class=muted>Bursts that met the alert rules; live on <code>/api/alerts/stream</code> (server-sent events).</p><div class=card>{}</div>",
        alert_rows(&list)
    );
    Ok(layout("Alerts", "/alerts", &who, &tlp, &body))
}

async fn search(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<crate::api::posts::PostQuery>,
) -> Page {
    let tlp = st.check_collection(&who)?;
    let form = format!(
        "<form class=search><input type=search name=q placeholder=\"words\" value=\"{}\"><input name=platform placeholder=platform size=9 value=\"{}\"><input name=lang placeholder=lang size=4 value=\"{}\"><input name=hashtag placeholder=hashtag size=10 value=\"{}\"><input name=actor placeholder=\"platform:actor\" size=14 value=\"{}\"><input name=link placeholder=link size=14 value=\"{}\"><button class=btn>Search</button></form>",
        esc(q.q.as_deref().unwrap_or("")),
        esc(q.platform.as_deref().unwrap_or("")),
        esc(q.lang.as_deref().unwrap_or("")),
        esc(q.hashtag.as_deref().unwrap_or("")),
        esc(q.actor.as_deref().unwrap_or("")),
        esc(q.link.as_deref().unwrap_or("")),
    );
    let st2 = st.clone();
    let w = who.clone();
    let page = st
        .read(move |s| {
            let cl = st2.clearance(s, &w)?;
            crate::api::posts::search(s, &q, |p| cl.sees_post(p))
        })
        .await;
    let results = match page {
        Ok(p) if p.posts.is_empty() => "<p class=muted>No posts.</p>".to_string(),
        Ok(p) => p.posts.iter().map(post_html).collect::<String>(),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            format!("<p class=note>{}</p>", esc(&e.message))
        }
        Err(e) => return Err(e.into()),
    };
    let body = format!("<h1>Search posts</h1>{form}<div class=card>{results}</div>");
    Ok(layout("Search", "/search", &who, &tlp, &body))
}

#[derive(Deserialize, Default)]
struct ClaimSearch {
    q: Option<String>,
    lang: Option<String>,
    publisher: Option<String>,
    offset: Option<usize>,
}

/// Claims listed on one page of the claims library.
const CLAIMS_PAGE: usize = 25;

/// Colour class of a fact-check rating.
fn rating_class(r: &str) -> &'static str {
    let r = r.to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| r.contains(w));
    if has(&[
        "false",
        "fake",
        "hoax",
        "misleading",
        "incorrect",
        "wrong",
        "not true",
        "pants",
        "disinformation",
        "fabricated",
        "manipulated",
        "unsupported",
        "baseless",
        "scam",
        "faux",
        "falso",
        "falsch",
        "ложь",
        "фейк",
        "неправда",
    ]) {
        "bad"
    } else if has(&[
        "true",
        "correct",
        "accurate",
        "vrai",
        "verdadero",
        "richtig",
    ]) {
        "good"
    } else {
        "mixed"
    }
}

/// `u` when it is a web link (`http://` or `https://`, no white space or
/// control characters): the only links the dashboard makes from imported
/// data. A `javascript:` or `data:` URL in a fact-check is shown as no
/// link at all (issue 14, finding 6).
pub fn web_link(u: &str) -> Option<&str> {
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    let web = lower.starts_with("http://") || lower.starts_with("https://");
    (web && !u.chars().any(|c| c.is_whitespace() || c.is_control())).then_some(u)
}

fn verdicts_html(v: &[crate::claims::VerdictItem]) -> String {
    if v.is_empty() {
        return "<div class=muted>No verdict recorded.</div>".into();
    }
    let mut s = String::from("<ul class=verdicts>");
    for r in v {
        let rating = r.rating.as_deref().unwrap_or("no rating");
        let _ = write!(
            s,
            "<li><span class=\"rating {}\">{}</span> {}{}{}{}</li>",
            rating_class(rating),
            esc(&short(rating, 40)),
            esc(r.publisher.as_deref().unwrap_or("unknown publisher")),
            r.date
                .as_deref()
                .map(|d| format!(" <span class=muted>· {}</span>", esc(d.get(..10).unwrap_or(d))))
                .unwrap_or_default(),
            r.language
                .as_deref()
                .map(|l| format!(" <span class=tag>{}</span>", esc(l)))
                .unwrap_or_default(),
            r.url
                .as_deref()
                .and_then(web_link)
                .map(|u| format!(
                    " · <a href=\"{}\" rel=\"noopener noreferrer\" target=_blank>read the fact-check ↗</a>",
                    esc(u)
                ))
                .unwrap_or_default(),
        );
    }
    s + "</ul>"
}

fn claim_html(c: &crate::claims::ClaimItem, extra: &str) -> String {
    format!(
        "<div class=claim><div class=claim-text>{}{}</div>{}<div class=meta>{}{}{}<span class=muted>{}</span>{}</div>{}</div>",
        c.confidence
            .map(|x| {
                let (class, title) = if x >= pharos_claims::retrieval::DEFAULT_THRESHOLD {
                    ("conf", "match confidence")
                } else {
                    ("conf low", "match confidence, below the 50% a match needs")
                };
                format!(
                    "<span class=\"{class}\" title=\"{title}\">{:.0}%</span> ",
                    x * 100.0
                )
            })
            .unwrap_or_default(),
        esc(&c.text),
        c.title
            .as_deref()
            .filter(|t| *t != c.text)
            .map(|t| format!("<div class=muted>{}</div>", esc(&short(t, 200))))
            .unwrap_or_default(),
        c.lang
            .as_deref()
            .map(|l| format!("<span class=tag>{}</span>", esc(l)))
            .unwrap_or_default(),
        c.claimant
            .as_deref()
            .map(|w| format!("claimed by {} · ", esc(&short(w, 60))))
            .unwrap_or_default(),
        c.claim_date
            .as_deref()
            .map(|d| format!("{} · ", esc(d.get(..10).unwrap_or(d))))
            .unwrap_or_default(),
        esc(&c.id),
        if c.tlp == "TLP:CLEAR" {
            String::new()
        } else {
            format!(
                " <span class=\"tlp {}\">{}</span>",
                esc(&c.tlp.trim_start_matches("TLP:").to_lowercase()),
                esc(&c.tlp)
            )
        },
        verdicts_html(&c.verdicts) + extra,
    )
}

async fn claims(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ClaimSearch>,
) -> Page {
    // Claims are public material: CLEAR unless marked, so no collection check.
    let tlp = crate::tlp::Marking::new(crate::tlp::Tlp::Clear);
    let offset = q.offset.unwrap_or(0);
    let search = crate::claims::Search {
        q: q.q.clone(),
        lang: q.lang.clone(),
        publisher: q.publisher.clone(),
        limit: CLAIMS_PAGE,
        offset,
    };
    let st2 = st.clone();
    let w = who.clone();
    let page = st
        .read(move |s| {
            let cl = st2.clearance(s, &w)?;
            crate::claims::search(&crate::claims::library_dir(&st2), &cl, &search)
        })
        .await?;
    let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
    let form = format!(
        "<form class=search id=claim-search><input type=search name=q placeholder=\"paste a post or a few words: the known claims it repeats\" value=\"{}\" autofocus><input name=lang placeholder=lang size=4 value=\"{}\"><input name=publisher placeholder=\"fact-checker\" size=14 value=\"{}\"><button class=btn>Search</button></form>",
        val(&q.q),
        val(&q.lang),
        val(&q.publisher)
    );
    let searched = q.q.as_deref().is_some_and(|t| !t.trim().is_empty());
    let mut body = format!(
        "<h1>Claims library</h1><p class=muted>Known claims and their fact-checks (public material, TLP:CLEAR unless marked). {}</p>{form}",
        if page.library {
            format!(
                "{} claims in the library. Search ranks them by how likely the text repeats each one (claim retrieval: BM25 and a calibrated confidence; 50% or more counts as a match).",
                fmt_n(page.library_claims as u64)
            )
        } else {
            String::new()
        }
    );
    for n in &page.notes {
        let _ = write!(body, "<p class=note>{}</p>", esc(n));
    }
    if page.library {
        let shown_to = (offset + page.claims.len()).min(page.total);
        let _ = write!(
            body,
            "<div class=card id=claim-results><h2>{}</h2>",
            if page.total == 0 {
                "No claims match.".to_string()
            } else if searched {
                format!(
                    "Best matches {}–{} of {}",
                    offset + 1,
                    shown_to,
                    fmt_n(page.total as u64)
                )
            } else {
                format!(
                    "Claims {}–{} of {}",
                    offset + 1,
                    shown_to,
                    fmt_n(page.total as u64)
                )
            }
        );
        for c in &page.claims {
            body.push_str(&claim_html(c, ""));
        }
        let link = |o: usize| {
            let mut u = format!("/claims?offset={o}");
            for (k, v) in [("q", &q.q), ("lang", &q.lang), ("publisher", &q.publisher)] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    u.push_str(&format!("&{k}={}", url_escape(v)));
                }
            }
            esc(&u)
        };
        let mut pager = String::new();
        if offset > 0 {
            let _ = write!(
                pager,
                "<a class=\"btn secondary\" href=\"{}\">← Previous</a> ",
                link(offset.saturating_sub(CLAIMS_PAGE))
            );
        }
        if shown_to < page.total {
            let _ = write!(
                pager,
                "<a class=\"btn secondary\" href=\"{}\">Next →</a>",
                link(offset + CLAIMS_PAGE)
            );
        }
        if !pager.is_empty() {
            let _ = write!(body, "<p class=pager>{pager}</p>");
        }
        body.push_str("</div>");
    }
    Ok(layout("Claims", "/claims", &who, &tlp, &body))
}

/// Percent-encodes a query value.
fn url_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// The narrative page's matched fact-checks and response pack (an HTML
/// fragment the page loads; both are computed at once).
async fn narrative_factchecks(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    st.check_collection(&who)?;
    let id = crate::api::analysis::parse_id(&id, "narrative")?;
    crate::claims::narrative_known(&st, id)?;
    let st2 = st.clone();
    let w = who.clone();
    let tlp = st
        .read(move |s| st2.clearance(s, &w)?.check("narrative", &id.to_string()))
        .await?;
    let (st2, w, m2) = (st.clone(), who.clone(), tlp.clone());
    let found = st.read(move |s| Ok(crate::claims::narrative_matches(&st2, s, id, &m2, &w)));
    let (st2, w) = (st.clone(), who.clone());
    let pack =
        st.read(move |s| Ok(crate::claims::response_pack(&st2, s, id, 3, &w).map(|(p, _)| p)));
    let (found, pack) = tokio::join!(found, pack);
    Ok(Html(claims_sections(id, found?, pack?)))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", fmt_n(n), if n == 1 { one } else { many })
}

/// The narrative page's fact-check and response sections.
fn claims_sections(
    n: u64,
    m: Result<crate::claims::NarrativeMatches, ApiError>,
    p: Result<pharos_claims::respond::pack::ResponsePack, ApiError>,
) -> String {
    let mut out =
        String::from("<div class=\"card wide\" id=matched-factchecks><h2>Matched fact-checks</h2>");
    match m {
        Err(e) => {
            let _ = write!(out, "<p class=note>{}</p>", esc(&e.message));
        }
        Ok(m) => {
            let source = match m.match_source.as_str() {
                "stored" => "from the store's matches (<code>pharos claims match --store</code>)",
                "on-the-fly" => {
                    "matched now against the library (no stored matches for these posts)"
                }
                _ => "",
            };
            if !m.matches.is_empty() {
                let _ = write!(
                    out,
                    "<p class=muted>{} repeated by this narrative's {} posts, {source}.</p>",
                    plural(m.matches.len() as u64, "known claim", "known claims"),
                    fmt_n(m.posts)
                );
            }
            for x in m.matches.iter().take(8) {
                let mut posts = String::new();
                if !x.posts.is_empty() {
                    posts.push_str("<details><summary>");
                    let _ = write!(
                        posts,
                        "{} matching posts (best {:.0}%)</summary>",
                        fmt_n(x.matched_posts),
                        x.max_confidence * 100.0
                    );
                    for p in &x.posts {
                        let _ = write!(
                            posts,
                            "<div class=\"post small\"><div class=meta>{} · {} · {:.0}%</div>{}</div>",
                            esc(&p.platform),
                            esc(&p.id),
                            p.confidence * 100.0,
                            esc(&short(&p.text, 240))
                        );
                    }
                    posts.push_str("</details>");
                }
                out.push_str(&claim_html(&x.claim, &posts));
            }
            for note in &m.notes {
                let _ = write!(out, "<p class=muted>{}</p>", esc(note));
            }
        }
    }
    out.push_str("</div>");
    let _ = write!(
        out,
        "<div class=\"card wide\" id=response-pack><h2>Response pack</h2>"
    );
    match p {
        Err(e) => {
            let _ = write!(out, "<p class=note>{}</p>", esc(&e.message));
        }
        Ok(p) => {
            let t = &p.timing;
            let _ = write!(
                out,
                "<div class=pack-head><span class=\"stage {}\">{}</span> {}</div>",
                esc(t.stage.as_str()),
                esc(&t.stage.as_str().replace('-', " ")),
                esc(&t.recommendation)
            );
            if let Some(d) = p.drafts.first() {
                let _ = write!(
                    out,
                    "<h3>Correction draft ({}){}</h3><div class=draft>{}</div>",
                    esc(&d.lang),
                    d.note
                        .as_deref()
                        .map(|x| format!(" <span class=muted>· {}</span>", esc(x)))
                        .unwrap_or_default(),
                    esc(&d.text)
                );
                if p.drafts.len() > 1 {
                    let _ = write!(
                        out,
                        "<p class=muted>Also drafted in: {}</p>",
                        p.drafts[1..]
                            .iter()
                            .map(|d| format!("<span class=tag>{}</span>", esc(&d.lang)))
                            .collect::<String>()
                    );
                }
            }
            if !p.key_facts.is_empty() {
                out.push_str("<h3>Key facts</h3><ul>");
                for k in p.key_facts.iter().take(5) {
                    let _ = write!(
                        out,
                        "<li>{}{}</li>",
                        esc(&short(&k.text, 300)),
                        match (&k.publisher, k.url.as_deref().and_then(web_link)) {
                            (Some(pb), Some(u)) => format!(
                                " <span class=muted>— <a href=\"{}\" rel=\"noopener noreferrer\" target=_blank>{}</a></span>",
                                esc(u),
                                esc(pb)
                            ),
                            (Some(pb), None) => format!(" <span class=muted>— {}</span>", esc(pb)),
                            _ => String::new(),
                        }
                    );
                }
                out.push_str("</ul>");
            }
            let _ = write!(
                out,
                "<p class=muted>{} posts by {} accounts on {}; {} cited.</p>",
                fmt_n(p.spread.posts),
                fmt_n(p.spread.accounts),
                p.spread
                    .platforms
                    .iter()
                    .map(|c| format!("<span class=tag>{}</span>", esc(&c.key)))
                    .collect::<String>(),
                plural(p.verdicts.len() as u64, "verdict", "verdicts")
            );
            for note in &p.notes {
                let _ = write!(out, "<p class=muted>{}</p>", esc(note));
            }
            let _ = write!(
                out,
                "<p><a class=btn id=download-pack href=\"/api/narratives/{n}/response?format=md\" download=\"response-pack-narrative-{n}.md\">Download response pack (Markdown)</a> <a class=\"btn secondary\" href=\"/api/narratives/{n}/response\">JSON</a></p>"
            );
        }
    }
    out + "</div>"
}

fn incident_rows(list: &[crate::incidents::IncidentSummary]) -> String {
    if list.is_empty() {
        return "<p class=muted>No incidents yet: the server assesses the store as posts arrive (<code>pharos assess --store PATH</code> finds the same).</p>".into();
    }
    let mut s = String::from(
        "<table><tr><th>Incident</th><th class=num>Severity</th><th class=num>Confidence</th><th class=num>Posts</th><th class=num>Accounts</th><th>DISARM</th><th>First seen</th></tr>",
    );
    for i in list {
        let _ = write!(
            s,
            "<tr><td><a href=\"/incidents/{}\">{}</a><div class=muted>{}</div></td><td class=num>{}</td><td class=num>{:.2}</td><td class=num>{}</td><td class=num>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.id),
            esc(&i.title),
            esc(&short(&i.summary, 180)),
            sev(i.severity),
            i.confidence,
            i.posts,
            i.accounts,
            i.techniques
                .iter()
                .map(|t| format!("<span class=tag>{}</span>", esc(t)))
                .collect::<String>(),
            esc(i.first_seen.get(..16).unwrap_or("")),
        );
    }
    s + "</table>"
}

fn visible_incidents(
    st: &Shared,
    s: &pharos_store::AnyStore,
    who: &Principal,
) -> Result<Vec<crate::incidents::IncidentSummary>, ApiError> {
    Ok(st
        .clearance(s, who)?
        .incidents(s)?
        .iter()
        .map(crate::incidents::IncidentSummary::of)
        .collect())
}

async fn incidents(State(st): State<Shared>, Extension(who): Extension<Principal>) -> Page {
    let tlp = st.check_collection(&who)?;
    let st2 = st.clone();
    let w = who.clone();
    let list = st.read(move |s| visible_incidents(&st2, s, &w)).await?;
    let body = format!(
        "<h1>Incidents</h1><div class=card>{}</div>",
        incident_rows(&list)
    );
    Ok(layout("Incidents", "/incidents", &who, &tlp, &body))
}

/// The team's prebunk briefs: a partner is refused (they draw on every
/// post and incident, whatever their markings).
fn prebunk_team_only(who: &Principal) -> Result<(), PageError> {
    if who.role == crate::auth::Role::Partner {
        return Err(ApiError::forbidden(
            "prebunk briefs are the team's: partners receive incidents, reports and STIX cleared for them",
        )
        .into());
    }
    Ok(())
}

/// Storylines likely to come back (the last live assessment's forecasts),
/// each briefed one linked.
async fn prebunk(State(st): State<Shared>, Extension(who): Extension<Principal>) -> Page {
    prebunk_team_only(&who)?;
    let tlp = st.check_collection(&who)?;
    let (p, at) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (s.prebunk.clone(), s.incidents_at.clone())
    };
    let mut body = String::from("<h1>Likely to come back</h1>");
    let _ = write!(
        body,
        "<p class=muted>Narratives linked across time into storylines ({} found), forecast at {} for the next {:.0} days from their history: recurrence, regular gaps, calendar triggers (<code>pharos prebunk --calendar</code>). Chances are ranks with reasons, not probabilities. Assessed {}.</p>",
        p.storylines,
        p.now.map(|t| t.day()).unwrap_or_else(|| "-".into()),
        p.horizon_days,
        esc(at.as_deref().unwrap_or("not yet"))
    );
    if p.forecasts.is_empty() {
        body.push_str("<div class=card><p>No storyline yet: the live assessment has not run, or no narrative has three posts.</p></div>");
    } else {
        body.push_str("<div class=card><table><tr><th>storyline</th><th>chance</th><th>basis</th><th>expected</th><th>outbreaks</th><th>why</th></tr>");
        for f in p.forecasts.iter().take(50) {
            let briefed = p.briefs.iter().any(|b| b.forecast.storyline == f.storyline);
            let title = if briefed {
                format!(
                    "<a href=\"/prebunk/{}\">{}</a>",
                    esc(&f.storyline),
                    esc(&f.title)
                )
            } else {
                esc(&f.title)
            };
            let _ = write!(
                body,
                "<tr><td>{title}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td><td class=muted>{}</td></tr>",
                f.chance,
                pharos_assess::report::prebunk::basis(f),
                esc(&pharos_assess::report::prebunk::when(f, p.horizon_days)),
                f.outbreaks,
                esc(f.reasons.first().map(String::as_str).unwrap_or(""))
            );
        }
        body.push_str("</table></div>");
    }
    Ok(layout("Likely to come back", "/prebunk", &who, &tlp, &body))
}

/// One storyline's prebunk brief.
async fn prebunk_brief(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    prebunk_team_only(&who)?;
    let tlp = st.check_collection(&who)?;
    let p = st
        .snapshot
        .read()
        .map_err(ApiError::internal)?
        .prebunk
        .clone();
    let b = p
        .briefs
        .iter()
        .find(|b| b.forecast.storyline == id)
        .ok_or_else(|| ApiError::not_found(format!("no prebunk brief {id}")))?;
    let body = format!(
        "<h1>Prebunk brief: {}</h1>{}",
        esc(&b.forecast.title),
        pharos_assess::report::prebunk::brief_body(b, p.horizon_days)
    );
    Ok(layout("Prebunk brief", "/prebunk", &who, &tlp, &body))
}

async fn incident(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    st.check_collection(&who)?;
    let st2 = st.clone();
    let w = who.clone();
    let (tlp, i) = st
        .read(move |s| {
            let m = st2.clearance(s, &w)?.check("incident", &id)?;
            Ok((m, crate::incidents::find(s, &id)?))
        })
        .await?;
    let t = &i.timeline;
    let bins: Vec<String> = (0..t.len())
        .map(|k| {
            pharos_core::EventTime(t.start.millis() + k as i64 * t.bucket_s * 1000)
                .to_rfc3339()
                .get(5..16)
                .unwrap_or("")
                .replace('T', " ")
        })
        .collect();
    let series: Vec<(String, Vec<u64>)> = t
        .series
        .iter()
        .map(|s| {
            let mut v = s.posts.clone();
            v.resize(bins.len(), 0);
            (s.platform.clone(), v)
        })
        .collect();
    let mut abcde = String::from("<table>");
    for (name, stmt) in [
        ("Actor", &i.abcde.actor),
        ("Behaviour", &i.abcde.behaviour),
        ("Content", &i.abcde.content),
        ("Degree", &i.abcde.degree),
        ("Effect", &i.abcde.effect),
    ] {
        let _ = write!(
            abcde,
            "<tr><th>{name}</th><td>{}<div class=muted>{} pieces of evidence</div></td></tr>",
            esc(&stmt.statement),
            stmt.evidence.len()
        );
    }
    abcde.push_str("</table>");
    let mut tech =
        String::from("<table><tr><th>DISARM</th><th>Technique</th><th>Shown by</th></tr>");
    for tg in &i.techniques {
        let _ = write!(
            tech,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}<div class=muted>{}</div></td></tr>",
            esc(&tg.t_id),
            esc(&tg.name),
            esc(&tg.shown_by),
            esc(&tg.signal)
        );
    }
    tech.push_str("</table>");
    let mut ev = String::from("<table><tr><th>Evidence</th><th>When</th><th>What</th></tr>");
    for e in i.evidence.iter().take(60) {
        let _ = write!(
            ev,
            "<tr><td>{}</td><td>{}</td><td>{}<div class=muted>{}</div></td></tr>",
            esc(&short(&e.id, 60)),
            esc(e
                .time
                .map(|t| t.to_rfc3339())
                .as_deref()
                .and_then(|t| t.get(..16))
                .unwrap_or("")),
            esc(&e.label),
            esc(&short(e.text.as_deref().unwrap_or(""), 200)),
        );
    }
    ev.push_str("</table>");
    let body = format!(
        "<h1 id=incident-title>{}</h1><p>{}</p><div class=kpis><div class=kpi><b>{}</b><span>severity</span></div><div class=kpi><b>{:.2}</b><span>confidence</span></div><div class=kpi><b>{}</b><span>posts</span></div><div class=kpi><b>{}</b><span>accounts</span></div><div class=kpi><b>{}</b><span>{} to {}</span></div></div>
        <p><a class=btn id=export-stix href=\"/api/stix/export?incident={}\" download>Export STIX bundle</a> <a class=btn id=download-briefing href=\"/api/reports/{}\" download>Download briefing</a> <a class=\"btn secondary\" href=\"/api/incidents/{}\">JSON</a></p>
        <div class=grid><div class=\"card wide\"><h2>Timeline (posts by platform)</h2>{}</div>
        <div class=\"card wide\"><h2>ABCDE</h2>{}</div>
        <div class=\"card wide\"><h2>DISARM techniques</h2>{}</div>
        {}
        <div class=\"card wide\"><h2>Evidence ({} pieces; the first 60)</h2>{}</div></div>",
        esc(&i.title),
        esc(&i.summary),
        sev(i.severity.value),
        i.confidence.value,
        i.post_count(),
        i.actors.len(),
        esc(&i.id),
        esc(i.first_seen.to_rfc3339().get(..16).unwrap_or("")),
        esc(i.last_seen.to_rfc3339().get(..16).unwrap_or("")),
        esc(&i.id),
        esc(&i.id),
        esc(&i.id),
        svg::stacked(&bins, &series, 1180, 200),
        abcde,
        tech,
        media::incident_card(&i, &who, st.config.media.root.is_some()),
        i.evidence.len(),
        ev,
    );
    Ok(layout(&i.title, "/incidents", &who, &tlp, &body))
}

async fn login_form() -> Html<String> {
    Html(login_page(""))
}

fn login_page(msg: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Sign in · Pharos</title><link rel=stylesheet href=/static/app.css></head><body><main class=login><div class=card><h1>Pharos</h1><p class=muted>Paste your API token (from <code>pharos token create</code>).</p>{}<form method=post action=/login><p><input type=password name=token placeholder=pharos_… style=\"width:100%\" autofocus></p><button class=btn>Sign in</button></form></div></main></body></html>",
        if msg.is_empty() {
            String::new()
        } else {
            format!("<p class=note>{}</p>", esc(msg))
        }
    )
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// Signs in with a token: sets the session cookie (`Secure` over HTTPS).
/// A failed login is audited; a peer past [`crate::auth::FAILED_LOGINS_PER_MINUTE`]
/// failures in a minute gets 429 until the minute ends; a form posted from
/// another site's page is refused.
async fn login(
    State(st): State<Shared>,
    crate::extract::Peer(peer): crate::extract::Peer,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let refused = |status: StatusCode, detail: String| crate::audit::AuditEntry {
        action: "refused".into(),
        method: "POST".into(),
        path: "/login".into(),
        status: status.as_u16(),
        detail: Some(detail),
        ..Default::default()
    };
    if (headers.contains_key(header::ORIGIN) || headers.contains_key(header::REFERER))
        && let Err(why) = crate::headers::same_origin(&headers)
    {
        st.audit(refused(StatusCode::FORBIDDEN, why.clone()));
        return (StatusCode::FORBIDDEN, Html(login_page(&why))).into_response();
    }
    let now = crate::auth::now_ms();
    if let Some(wait) = st.logins.blocked(peer, now) {
        st.audit(refused(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many failed logins from {}",
                peer.map_or("an unknown peer".to_string(), |p| p.to_string())
            ),
        ));
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            Html(login_page(&format!(
                "Too many failed sign-ins: try again in {wait} s."
            ))),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let t = f.token.trim().to_string();
    let t2 = t.clone();
    let ok = st
        .read(move |s| crate::auth::verify(s, &t2).map_err(ApiError::internal))
        .await
        .ok()
        .flatten();
    match ok {
        Some(p) => {
            st.audit(crate::audit::AuditEntry {
                token: Some(p.token_id),
                name: Some(p.name),
                role: Some(p.role.as_str().into()),
                org: p.org,
                action: "read".into(),
                method: "POST".into(),
                path: "/login".into(),
                status: 303,
                ..Default::default()
            });
            let mut r = Redirect::to("/").into_response();
            let secure =
                crate::headers::over_https(&headers, st.config.taxii.public_url.as_deref());
            if let Ok(v) = HeaderValue::from_str(&crate::headers::session_cookie(&t, secure)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        None => {
            st.logins.failed(peer, now);
            st.audit(refused(
                StatusCode::UNAUTHORIZED,
                format!(
                    "failed login from {}: unknown or revoked token",
                    peer.map_or("an unknown peer".to_string(), |p| p.to_string())
                ),
            ));
            (
                StatusCode::UNAUTHORIZED,
                Html(login_page("That token is unknown or revoked.")),
            )
                .into_response()
        }
    }
}

async fn logout() -> Response {
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("pharos_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, finding 6: a fact-check imported with a `javascript:` URL
    /// is no link on `/claims`.
    #[test]
    fn only_web_urls_become_links() {
        let item = |url: &str| crate::claims::VerdictItem {
            publisher: Some("Checker".into()),
            rating: Some("False".into()),
            date: None,
            url: Some(url.into()),
            language: None,
            title: None,
        };
        for bad in [
            "javascript:alert(document.cookie)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "//evil.example/x",
            "https://ok.example/a b",
        ] {
            let html = verdicts_html(&[item(bad)]);
            assert!(!html.contains("href="), "{bad:?} became a link: {html}");
        }
        for good in [
            "https://factcheck.example/a?b=1",
            "HTTP://factcheck.example/",
        ] {
            let html = verdicts_html(&[item(good)]);
            assert!(html.contains("href=\""), "{good:?} is a link: {html}");
        }
    }

    /// Issue 15: a narrative told in several languages shows its title and
    /// terms in each (escaped); a one-language narrative shows no card.
    #[test]
    fn a_narrative_page_lists_its_languages() {
        use pharos_analysis::narratives::LanguageView;
        let view = |lang: &str, posts: u64, title: &str| LanguageView {
            lang: lang.into(),
            posts,
            title: title.into(),
            label: format!("{lang}-term"),
        };
        assert_eq!(by_language_html(&[view("en", 9, "Only one")]), "");
        let html = by_language_html(&[
            view("ru", 1200, "Доллар взлетел выше 99 рублей"),
            view("en", 7, "<b>Dollar</b> tops 99 roubles"),
        ]);
        assert!(html.contains("In each language"), "{html}");
        assert!(
            html.find("Доллар").unwrap() < html.find("Dollar").unwrap(),
            "{html}"
        );
        assert!(html.contains("1,200") && html.contains("ru-term"), "{html}");
        assert!(
            !html.contains("<b>") && html.contains("&lt;b&gt;"),
            "{html}"
        );
    }

    /// Issue 19: the networks page says what made each network; a shared
    /// template's line (written by whoever runs the channels) is escaped
    /// and cut, and its Δt is not shown as timing.
    #[test]
    fn a_network_row_names_its_evidence() {
        let mut n = pharos_analysis::coordination::report::NetworkReport {
            kind: "community".into(),
            id: 0,
            accounts: 4,
            edges: 6,
            weight: 6.0,
            density: 1.0,
            median_time_delta: Some(12.0),
            edge_symmetry: None,
            coordinated_posts: 8,
            member_posts: 9,
            coordinated_share: None,
            platforms: Vec::new(),
            languages: Vec::new(),
            first_activity: None,
            last_activity: None,
            members: Vec::new(),
            evidence: Vec::new(),
            evidence_left_out: 0,
            layers: vec!["co-retweet".into(), "co-link".into()],
            template: None,
        };
        let html = network_evidence(&n);
        assert!(
            html.find("co-retweet").unwrap() < html.find("co-link").unwrap(),
            "{html}"
        );
        assert!(!html.contains("shared template"), "{html}");
        n.template = Some(format!(
            "<script>x</script> Подписаться {}",
            "ж".repeat(200)
        ));
        let html = network_evidence(&n);
        assert!(html.contains("shared template"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains('…') && html.chars().filter(|&c| c == 'ж').count() < 80,
            "{html}"
        );
        assert!(!html.contains("co-retweet"), "{html}");
    }
}
