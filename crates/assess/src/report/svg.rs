//! Inline SVG charts drawn without any library: stacked timeline bars,
//! horizontal bars, and a coordination network.

use crate::incident::{NetworkRef, Timeline};
use std::collections::HashMap;
use std::fmt::Write;

/// Escapes text for HTML and SVG (`& < > " '`).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Colours for platforms (stable by name) and series.
pub fn colour(name: &str) -> &'static str {
    match name {
        "twitter" => "#1d9bf0",
        "telegram" => "#2aa876",
        "facebook" => "#4b5fc1",
        "instagram" => "#c13584",
        "rss" => "#e08a00",
        "tiktok" => "#222222",
        "youtube" => "#d62728",
        "vk" => "#4a76a8",
        _ => {
            const P: [&str; 6] = [
                "#8c564b", "#9467bd", "#7f7f7f", "#bcbd22", "#17becf", "#e377c2",
            ];
            let h = name
                .bytes()
                .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
            P[h % P.len()]
        }
    }
}

/// Stacked bars of posts per bucket per platform, with a time axis and a
/// legend. `width` in pixels.
pub fn timeline(t: &Timeline, width: u32) -> String {
    let n = t.len().max(1);
    let totals = t.totals();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let (left, right, top, bottom) = (40.0, 10.0, 10.0, 38.0);
    let h = 170.0;
    let w = width as f64;
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let bw = plot_w / n as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="posts per {} by platform">"#,
        bucket_name(t.bucket_s)
    );
    // y axis: 0, max/2, max
    for frac in [0.0, 0.5, 1.0] {
        let y = top + plot_h * (1.0 - frac);
        let v = (max as f64 * frac).round() as u64;
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#555">{v}</text>"##,
            w - right,
            left - 4.0,
            y + 3.0
        );
    }
    for i in 0..n {
        let mut y = top + plot_h;
        for series in &t.series {
            let v = series.posts.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let bh = plot_h * v as f64 / max as f64;
            y -= bh;
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{} {}: {v}</title></rect>"#,
                left + i as f64 * bw + 0.5,
                (bw - 1.0).max(0.5),
                colour(&series.platform),
                esc(&series.platform),
                bucket_label(t, i)
            );
        }
    }
    // x labels: first, middle, last
    let marks: Vec<usize> = if n >= 3 {
        vec![0, n / 2, n - 1]
    } else {
        (0..n).collect()
    };
    for (k, i) in marks.iter().enumerate() {
        let x = left + (*i as f64 + 0.5) * bw;
        let anchor = match (k, marks.len()) {
            (0, _) => "start",
            (k, m) if k == m - 1 => "end",
            _ => "middle",
        };
        let x = match anchor {
            "start" => left,
            "end" => w - right,
            _ => x,
        };
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="{anchor}" fill="#555">{}</text>"##,
            top + plot_h + 13.0,
            bucket_label(t, *i)
        );
    }
    // legend
    let mut x = left;
    for series in &t.series {
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text>"##,
            h - 12.0,
            colour(&series.platform),
            x + 14.0,
            h - 3.0,
            esc(&series.platform)
        );
        x += 24.0 + 7.0 * series.platform.len() as f64;
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#777">posts per {}</text></svg>"##,
        w - right,
        h - 3.0,
        bucket_name(t.bucket_s)
    );
    s
}

fn bucket_name(s: i64) -> String {
    match s {
        60 => "minute".into(),
        3600 => "hour".into(),
        86400 => "day".into(),
        s if s % 86400 == 0 => format!("{} days", s / 86400),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{} minutes", s / 60),
    }
}

fn bucket_label(t: &Timeline, i: usize) -> String {
    let start = pharos_core::EventTime(t.start.millis() + i as i64 * t.bucket_s * 1000);
    let dt = start.to_datetime();
    if t.bucket_s >= 86400 {
        dt.format("%d %b").to_string()
    } else {
        dt.format("%d %b %H:%M").to_string()
    }
}

/// Horizontal bars, one per `(label, value)`; `width` in pixels.
pub fn bars(items: &[(String, f64)], width: u32, colour_of: &dyn Fn(&str) -> String) -> String {
    let row = 20.0;
    let label_w = 150.0;
    let w = width as f64;
    let h = row * items.len().max(1) as f64 + 4.0;
    let max = items.iter().map(|x| x.1).fold(0.0, f64::max).max(1e-9);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">"#
    );
    for (k, (label, v)) in items.iter().enumerate() {
        let y = 2.0 + k as f64 * row;
        let bw = (w - label_w - 60.0) * v / max;
        let short: String = label.chars().take(24).collect();
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#333">{}</text><rect x="{label_w}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text>"##,
            label_w - 6.0,
            y + 13.0,
            esc(&short),
            y + 2.0,
            row - 5.0,
            colour_of(label),
            esc(label),
            fmt_num(*v),
            label_w + bw + 4.0,
            y + 13.0,
            fmt_num(*v)
        );
    }
    s.push_str("</svg>");
    s
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
    }
}

/// Hours of the day (UTC) as 24 vertical bars.
pub fn hours(counts: &[u64; 24], width: u32) -> String {
    let (left, bottom, top) = (24.0, 16.0, 6.0);
    let h = 90.0;
    let w = width as f64;
    let bw = (w - left - 4.0) / 24.0;
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="posts by hour of day, UTC">"#
    );
    for (i, &c) in counts.iter().enumerate() {
        let bh = (h - top - bottom) * c as f64 / max as f64;
        let x = left + i as f64 * bw;
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#c0392b"><title>{i:02}:00 UTC: {c}</title></rect>"##,
            x + 0.5,
            h - bottom - bh,
            bw - 1.0
        );
        if i % 3 == 0 {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" fill="#555">{i:02}</text>"##,
                x + bw / 2.0,
                h - 4.0
            );
        }
    }
    let _ = write!(
        s,
        r##"<text x="2" y="12" font-size="9" fill="#555">{max}</text></svg>"##
    );
    s
}

/// A coordination network: accounts on a deterministic force layout
/// (Fruchterman–Reingold, fixed start on a circle), edges drawn by weight.
/// At most `max_nodes` accounts (the strongest).
pub fn network(
    net: &NetworkRef,
    width: u32,
    max_nodes: usize,
    labels: &HashMap<String, String>,
) -> String {
    let mut strength: HashMap<&str, f64> = HashMap::new();
    for e in &net.edges {
        *strength.entry(e.from.as_str()).or_insert(0.0) += e.weight;
        *strength.entry(e.to.as_str()).or_insert(0.0) += e.weight;
    }
    let mut nodes: Vec<&str> = net.accounts.iter().map(String::as_str).collect();
    nodes.sort_by(|a, b| {
        strength
            .get(b)
            .unwrap_or(&0.0)
            .total_cmp(strength.get(a).unwrap_or(&0.0))
            .then_with(|| a.cmp(b))
    });
    nodes.truncate(max_nodes);
    let idx: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<(usize, usize, f64)> = net
        .edges
        .iter()
        .filter_map(|e| {
            Some((
                *idx.get(e.from.as_str())?,
                *idx.get(e.to.as_str())?,
                e.weight,
            ))
        })
        .collect();
    let n = nodes.len();
    let w = width as f64;
    let h = (w * 0.62).round();
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n.max(1) as f64;
            (0.35 * a.cos(), 0.35 * a.sin())
        })
        .collect();
    let k = (1.0 / n.max(1) as f64).sqrt();
    let mut temp = 0.1;
    for _ in 0..200 {
        let mut disp = vec![(0.0f64, 0.0f64); n];
        for i in 0..n {
            for j in (i + 1)..n {
                let (dx, dy) = (pos[i].0 - pos[j].0, pos[i].1 - pos[j].1);
                let d = (dx * dx + dy * dy).sqrt().max(1e-4);
                let f = k * k / d;
                disp[i].0 += dx / d * f;
                disp[i].1 += dy / d * f;
                disp[j].0 -= dx / d * f;
                disp[j].1 -= dy / d * f;
            }
        }
        for &(a, b, wt) in &edges {
            let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-4);
            let f = d * d / k * (1.0 + wt.ln_1p()) / 2.0;
            disp[a].0 -= dx / d * f;
            disp[a].1 -= dy / d * f;
            disp[b].0 += dx / d * f;
            disp[b].1 += dy / d * f;
        }
        for i in 0..n {
            let (dx, dy) = disp[i];
            let d = (dx * dx + dy * dy).sqrt().max(1e-9);
            pos[i].0 += dx / d * d.min(temp);
            pos[i].1 += dy / d * d.min(temp);
            // gravity towards the centre keeps components on the canvas
            pos[i].0 *= 0.98;
            pos[i].1 *= 0.98;
        }
        temp *= 0.98;
    }
    let (minx, maxx) = pos
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (miny, maxy) = pos
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let pad = 24.0;
    let sx = |x: f64| pad + (x - minx) / (maxx - minx).max(1e-9) * (w - 2.0 * pad);
    let sy = |y: f64| pad + (y - miny) / (maxy - miny).max(1e-9) * (h - 2.0 * pad);
    let max_w = edges.iter().map(|e| e.2).fold(1.0, f64::max);
    let max_s = nodes
        .iter()
        .map(|n| strength.get(n).copied().unwrap_or(0.0))
        .fold(1.0, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart net" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="coordination network">"#
    );
    for &(a, b, wt) in &edges {
        let _ = write!(
            s,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#888" stroke-opacity="{:.2}" stroke-width="{:.1}"/>"##,
            sx(pos[a].0),
            sy(pos[a].1),
            sx(pos[b].0),
            sy(pos[b].1),
            0.25 + 0.6 * wt / max_w,
            0.6 + 2.4 * wt / max_w
        );
    }
    for (i, name) in nodes.iter().enumerate() {
        let st = strength.get(name).copied().unwrap_or(0.0);
        let r = 3.0 + 6.0 * (st / max_s).sqrt();
        let platform = name.split(':').next().unwrap_or("");
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="{r:.1}" fill="{}" stroke="#fff" stroke-width="1"><title>{} (strength {})</title></circle>"##,
            sx(pos[i].0),
            sy(pos[i].1),
            colour(platform),
            esc(name),
            fmt_num(st)
        );
    }
    // Names when they fit (up to 30 accounts), beside each node.
    if n <= 30 {
        for (i, name) in nodes.iter().enumerate() {
            let label = labels.get(*name).map(String::as_str).unwrap_or(name);
            let short: String = label.chars().take(18).collect();
            let x = sx(pos[i].0);
            let anchor = if x < 60.0 {
                "start"
            } else if x > w - 60.0 {
                "end"
            } else {
                "middle"
            };
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" font-size="9" fill="#444" text-anchor="{anchor}">{}</text>"##,
                sy(pos[i].1) - 10.0,
                esc(&short)
            );
        }
    }
    if net.accounts.len() > n {
        let _ = write!(
            s,
            r##"<text x="4" y="{:.1}" font-size="10" fill="#777">{n} strongest of {} accounts shown</text>"##,
            h - 4.0,
            net.accounts.len()
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{NetworkEdge, TimelineSeries};
    use pharos_core::EventTime;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn timeline_draws_one_bar_per_non_empty_bucket_and_platform() {
        let t = Timeline {
            bucket_s: 3600,
            start: EventTime::from_secs(0),
            series: vec![
                TimelineSeries {
                    platform: "twitter".into(),
                    posts: vec![1, 0, 3],
                },
                TimelineSeries {
                    platform: "<x>".into(),
                    posts: vec![0, 2, 1],
                },
            ],
        };
        let svg = timeline(&t, 400);
        assert_eq!(
            svg.matches("<rect").count(),
            4 + 2,
            "4 bars and 2 legend boxes"
        );
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
        assert!(svg.contains("posts per hour"));
    }

    #[test]
    fn network_draws_every_account_up_to_the_cap() {
        let net = NetworkRef {
            id: "network:0".into(),
            kind: "co-link".into(),
            accounts: (0..5).map(|i| format!("twitter:{i}")).collect(),
            edges: (1..5)
                .map(|i| NetworkEdge {
                    from: "twitter:0".into(),
                    to: format!("twitter:{i}"),
                    weight: i as f64,
                })
                .collect(),
            density: 0.4,
            median_time_delta_s: 3.0,
            coordinated_posts: 10,
            template: None,
        };
        let labels = HashMap::from([("twitter:0".to_string(), "@hub".to_string())]);
        let svg = network(&net, 400, 10, &labels);
        assert!(svg.contains(">@hub</text>"));
        assert_eq!(svg.matches("<circle").count(), 5);
        assert_eq!(svg.matches("<line").count(), 4);
        assert!(!svg.contains("NaN"));
        let capped = network(&net, 400, 3, &labels);
        assert_eq!(capped.matches("<circle").count(), 3);
        assert!(capped.contains("3 strongest of 5 accounts shown"));
    }
}
