//! EUvsDisinfo case tables (CSV with a header): `date, outlet, language,
//! keywords, source, title, summary, disproof` (other columns are ignored).
//!
//! The claim is the `summary` (the `title` when the summary is empty), the
//! review is the `disproof`, published by EUvsDisinfo. Cases with the same
//! normalised claim text are one claim (the same story carried by several
//! outlets): their outlets, languages, sources and disproofs are merged.

use super::normalize::{claim_id, date, lang_code, nonempty, normalize_text};
use super::{Parsed, Records, Rejected};
use crate::model::{Claim, Review};

pub(crate) fn parse(bytes: &[u8]) -> Result<Records, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = rdr
        .byte_headers()
        .map_err(|e| format!("cannot read the header line: {e}"))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| String::from_utf8_lossy(h).trim().eq_ignore_ascii_case(name))
    };
    let summary = col("summary");
    let title = col("title");
    if summary.is_none() && title.is_none() {
        return Err(format!(
            "no `summary` or `title` column in the header ({}): is this an EUvsDisinfo case table?",
            String::from_utf8_lossy(headers.as_slice())
                .chars()
                .take(200)
                .collect::<String>()
        ));
    }
    let disproof = col("disproof");
    let date_col = col("date");
    let outlet = col("outlet").or_else(|| col("outlets"));
    let language = col("language").or_else(|| col("languages"));
    let keywords = col("keywords");
    let source = col("source").or_else(|| col("sources"));
    let url = col("url").or_else(|| col("case url"));
    let width = headers.len();

    let mut out = Records::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        let line = rdr.position().line();
        let raw_of = |r: &csv::ByteRecord| {
            r.iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                out.push(Err(Rejected {
                    line: Some(line),
                    record: None,
                    reason: format!("bad CSV: {e}"),
                    raw: raw_of(&rec),
                }));
                // A CSV error that is not about one record (I/O) cannot be skipped.
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    break;
                }
                continue;
            }
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(line);
        let reject = |reason: String| Rejected {
            line: Some(line),
            record: None,
            reason,
            raw: raw_of(&rec),
        };
        if rec.len() != width {
            out.push(Err(reject(format!(
                "bad CSV: expected {width} fields as in the header, found {}",
                rec.len()
            ))));
            continue;
        }
        let mut fields = Vec::with_capacity(width);
        let mut bad = None;
        for (i, f) in rec.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => fields.push(s),
                Err(e) => {
                    bad = Some(format!(
                        "invalid UTF-8: column {} at byte {}",
                        String::from_utf8_lossy(&headers[i]),
                        e.valid_up_to()
                    ));
                    break;
                }
            }
        }
        if let Some(reason) = bad {
            out.push(Err(reject(reason)));
            continue;
        }
        let get = |c: Option<usize>| c.and_then(|i| nonempty(fields[i]));
        let title_v = get(title);
        let Some(text) = get(summary).or_else(|| title_v.clone()) else {
            out.push(Err(reject(
                "missing claim: both summary and title are empty".into(),
            )));
            continue;
        };
        let list = |c: Option<usize>| -> Vec<String> {
            get(c)
                .map(|v| v.split(',').filter_map(nonempty).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let day = get(date_col).map(|d| case_date(&d));
        let disproof_v = get(disproof);
        let review = Review {
            publisher: Some("EUvsDisinfo".into()),
            publisher_site: Some("euvsdisinfo.eu".into()),
            url: get(url),
            title: title_v.clone(),
            date: day.clone(),
            rating: Some("Disinformation".into()),
            text: disproof_v,
            ..Review::default()
        };
        let mut languages = Vec::new();
        for l in list(language) {
            if let Some(code) = lang_code(&l)
                && !languages.contains(&code)
            {
                languages.push(code);
            }
        }
        let appearances: Vec<String> = get(source)
            .map(|s| {
                s.split_whitespace()
                    .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let outlet_v = get(outlet);
        out.push(Ok(Parsed {
            claim: Claim {
                id: claim_id("euvsdisinfo", &[&normalize_text(&text)]),
                text,
                title: title_v,
                lang: None,
                claimant: outlet_v.clone(),
                claim_date: day,
                keywords: list(keywords),
                reviews: vec![review],
                appearances,
                outlets: outlet_v.into_iter().collect(),
                languages,
            },
            line: Some(line),
            record: None,
        }));
    }
    Ok(out)
}

/// EUvsDisinfo's `MM/DD/YY` (or `MM/DD/YYYY`) dates as `YYYY-MM-DD`; other forms through [`date`].
fn case_date(v: &str) -> String {
    let parts: Vec<&str> = v.trim().split('/').collect();
    if parts.len() == 3
        && let (Ok(m), Ok(d), Ok(y)) = (
            parts[0].parse::<u32>(),
            parts[1].parse::<u32>(),
            parts[2].parse::<u32>(),
        )
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
    {
        let y = match (parts[2].len(), y) {
            (2, y) if y >= 70 => 1900 + y,
            (2, y) => 2000 + y,
            (_, y) => y,
        };
        return format!("{y:04}-{m:02}-{d:02}");
    }
    date(v).unwrap_or_else(|| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn case_dates() {
        assert_eq!(super::case_date("10/03/17"), "2017-10-03");
        assert_eq!(super::case_date("2/1/2016"), "2016-02-01");
        assert_eq!(super::case_date("2017-05-01"), "2017-05-01");
        assert_eq!(super::case_date("13/40/17"), "13/40/17");
    }
}
