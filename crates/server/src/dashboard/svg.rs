//! Charts and graphs drawn on the server as SVG: no script, no library,
//! nothing fetched. Colours come from one palette shared with the CSS.

use std::fmt::Write;

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub const PALETTE: &[&str] = &[
    "#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#dc2626",
    "#4b5563",
];

pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Horizontal bars: `(label, value)`, largest first as given.
pub fn bars(rows: &[(String, u64)], width: u32) -> String {
    if rows.is_empty() {
        return "<p class=muted>No data.</p>".into();
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let row_h = 22;
    let label_w = 110;
    let h = rows.len() as u32 * row_h + 4;
    let mut s = format!(
        "<svg class=chart viewBox=\"0 0 {width} {h}\" width=\"100%\" role=img aria-label=\"bar chart\">"
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = i as u32 * row_h + 2;
        let w = ((*v as f64 / max) * (width - label_w - 70) as f64).max(1.0);
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=end class=lbl>{}</text><rect x=\"{}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" rx=3 fill=\"{}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{}\" class=val>{}</text>",
            label_w - 6,
            y + 15,
            esc(label),
            label_w,
            y + 3,
            row_h - 6,
            colour(i),
            esc(label),
            v,
            label_w as f64 + w + 5.0,
            y + 15,
            v
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked columns over time: `bins` are x labels, `series` (name, values per bin).
pub fn stacked(bins: &[String], series: &[(String, Vec<u64>)], width: u32, height: u32) -> String {
    if bins.is_empty() || series.is_empty() {
        return "<p class=muted>No data.</p>".into();
    }
    let n = bins.len();
    let totals: Vec<u64> = (0..n)
        .map(|i| series.iter().map(|s| s.1[i]).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (left, bottom, top) = (40.0, 22.0, 8.0);
    let plot_w = width as f64 - left - 8.0;
    let plot_h = height as f64 - bottom - top;
    let bw = plot_w / n as f64;
    let mut s = format!(
        "<svg class=chart viewBox=\"0 0 {width} {height}\" width=\"100%\" role=img aria-label=\"timeline\">"
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = top + plot_h - plot_h * k as f64 / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=grid /><text x=\"{}\" y=\"{:.1}\" text-anchor=end class=axis>{}</text>",
            width as f64 - 8.0,
            left - 4.0,
            y + 4.0,
            v.round() as u64
        );
    }
    for i in 0..n {
        let mut y = top + plot_h;
        for (j, (name, vals)) in series.iter().enumerate() {
            let v = vals[i];
            if v == 0 {
                continue;
            }
            let h = plot_h * v as f64 / max;
            y -= h;
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                left + i as f64 * bw + 0.5,
                (bw - 1.0).max(0.5),
                colour(j),
                esc(&bins[i]),
                esc(name),
                v
            );
        }
    }
    // About six x labels.
    let step = n.div_ceil(6).max(1);
    for i in (0..n).step_by(step) {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" class=axis>{}</text>",
            left + i as f64 * bw,
            height - 6,
            esc(&bins[i])
        );
    }
    s.push_str("</svg>");
    let mut legend = String::from("<div class=legend>");
    for (j, (name, _)) in series.iter().enumerate() {
        let _ = write!(
            legend,
            "<span><i style=\"background:{}\"></i>{}</span>",
            colour(j),
            esc(name)
        );
    }
    legend.push_str("</div>");
    s + &legend
}

/// Node-link diagram. Nodes `(id, label, size, group)`, edges `(a, b, weight)`
/// by node index. Laid out with Fruchterman–Reingold from a fixed start, so
/// the same network is drawn the same way. Nodes carry `data-account`,
/// edges `data-from`/`data-to`, for the page's click handler.
pub fn graph(
    nodes: &[(String, String, f64, usize)],
    edges: &[(usize, usize, f64)],
    width: u32,
    height: u32,
) -> String {
    let n = nodes.len();
    if n == 0 {
        return "<p class=muted>No accounts.</p>".into();
    }
    let (w, h) = (width as f64, height as f64);
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = i as f64 * 2.399_963; // golden angle: an even spiral start
            let r = (i as f64 + 0.5).sqrt() / (n as f64).sqrt() * w.min(h) * 0.45;
            (w / 2.0 + r * a.cos(), h / 2.0 + r * a.sin())
        })
        .collect();
    let k = (w * h / n as f64).sqrt() * 0.75;
    let mut t = w / 10.0;
    let iters = if n > 150 { 120 } else { 250 };
    let maxw = edges.iter().map(|e| e.2).fold(1.0f64, f64::max);
    for _ in 0..iters {
        let mut disp = vec![(0.0f64, 0.0f64); n];
        for i in 0..n {
            for j in (i + 1)..n {
                let dx = pos[i].0 - pos[j].0;
                let dy = pos[i].1 - pos[j].1;
                let d2 = (dx * dx + dy * dy).max(0.01);
                let f = k * k / d2;
                disp[i].0 += dx * f;
                disp[i].1 += dy * f;
                disp[j].0 -= dx * f;
                disp[j].1 -= dy * f;
            }
        }
        for &(a, b, wgt) in edges {
            let dx = pos[a].0 - pos[b].0;
            let dy = pos[a].1 - pos[b].1;
            let d = (dx * dx + dy * dy).sqrt().max(0.1);
            let f = d / k * (0.5 + wgt / maxw);
            disp[a].0 -= dx * f;
            disp[a].1 -= dy * f;
            disp[b].0 += dx * f;
            disp[b].1 += dy * f;
        }
        for i in 0..n {
            // Gravity keeps separate components on the canvas.
            disp[i].0 += (w / 2.0 - pos[i].0) * 0.004 * k;
            disp[i].1 += (h / 2.0 - pos[i].1) * 0.004 * k;
            let d = (disp[i].0 * disp[i].0 + disp[i].1 * disp[i].1)
                .sqrt()
                .max(0.01);
            pos[i].0 = (pos[i].0 + disp[i].0 / d * d.min(t)).clamp(20.0, w - 20.0);
            pos[i].1 = (pos[i].1 + disp[i].1 / d * d.min(t)).clamp(20.0, h - 20.0);
        }
        t = (t * 0.97).max(1.0);
    }
    let maxs = nodes.iter().map(|n| n.2).fold(1.0f64, f64::max);
    let mut s = format!(
        "<svg id=graph class=graph viewBox=\"0 0 {width} {height}\" width=\"100%\" role=img aria-label=\"coordination network\">"
    );
    for &(a, b, wgt) in edges {
        let _ = write!(
            s,
            "<line class=edge data-from=\"{}\" data-to=\"{}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke-width=\"{:.1}\"><title>{} — {}: weight {}</title></line>",
            esc(&nodes[a].0),
            esc(&nodes[b].0),
            pos[a].0,
            pos[a].1,
            pos[b].0,
            pos[b].1,
            1.0 + 4.0 * wgt / maxw,
            esc(&nodes[a].1),
            esc(&nodes[b].1),
            wgt
        );
    }
    for (i, (id, label, size, group)) in nodes.iter().enumerate() {
        let r = 5.0 + 9.0 * (size / maxs).sqrt();
        let _ = write!(
            s,
            "<circle class=node data-account=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"{}\" tabindex=0><title>{}</title></circle>",
            esc(id),
            pos[i].0,
            pos[i].1,
            colour(*group),
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        let svg = bars(&[("<script>".into(), 3)], 300);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        let g = graph(&[("a\"b".into(), "<x>".into(), 1.0, 0)], &[], 200, 200);
        assert!(g.contains("data-account=\"a&quot;b\""));
        assert!(!g.contains("<x>"));
    }

    #[test]
    fn the_layout_is_deterministic_and_on_the_canvas() {
        let nodes: Vec<_> = (0..30)
            .map(|i| (format!("n{i}"), format!("n{i}"), 1.0, i % 3))
            .collect();
        let edges: Vec<_> = (0..29).map(|i| (i, i + 1, 1.0)).collect();
        let a = graph(&nodes, &edges, 600, 400);
        assert_eq!(a, graph(&nodes, &edges, 600, 400));
        for cap in a.split("cx=\"").skip(1) {
            let x: f64 = cap.split('"').next().unwrap().parse().unwrap();
            assert!((20.0..=580.0).contains(&x));
        }
    }
}
