//! Google Fact Check Tools API `claims:search` responses: `{"claims": [{"text",
//! "claimant", "claimDate", "claimReview": [{"publisher": {"name", "site"},
//! "url", "title", "reviewDate", "textualRating", "languageCode"}]}],
//! "nextPageToken"}`. A file may hold one response, an array of responses,
//! responses one a line, or a bare array of claims.

use super::json::{file_documents, raw, text};
use super::normalize::{claim_id, date, lang_code, nonempty, normalize_text};
use super::{Parsed, Records, Rejected};
use crate::model::{Claim, Review};
use serde_json::Value;

pub(crate) fn parse(bytes: &[u8]) -> Result<Records, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let mut out = Records::new();
    let mut record = 0u64;
    let mut responses = 0;
    for doc in file_documents(&text)? {
        match doc {
            Ok(d) => collect(&d.value, d.line, &mut record, &mut responses, &mut out),
            Err(r) => out.push(Err(r)),
        }
    }
    if out.is_empty() && responses == 0 {
        return Err(
            "no `claims` found: is this a Fact Check Tools `claims:search` response?".into(),
        );
    }
    Ok(out)
}

fn collect(v: &Value, line: u64, record: &mut u64, responses: &mut u64, out: &mut Records) {
    match v {
        Value::Object(o) if o.contains_key("claims") => {
            *responses += 1;
            match o.get("claims") {
                Some(Value::Array(claims)) => {
                    for c in claims {
                        one(c, line, record, out);
                    }
                }
                Some(other) => {
                    *record += 1;
                    out.push(Err(Rejected {
                        line: Some(line),
                        record: Some(*record),
                        reason: "bad response: `claims` is not an array".into(),
                        raw: raw(other),
                    }));
                }
                None => {}
            }
        }
        Value::Object(o) if o.contains_key("claimReview") || o.contains_key("text") => {
            one(v, line, record, out)
        }
        Value::Object(o) if o.is_empty() => *responses += 1, // an empty response: no claims
        Value::Array(a) => a
            .iter()
            .for_each(|x| collect(x, line, record, responses, out)),
        _ => {}
    }
}

fn one(c: &Value, line: u64, record: &mut u64, out: &mut Records) {
    *record += 1;
    let r = to_claim(c).map_err(|reason| Rejected {
        line: Some(line),
        record: Some(*record),
        reason,
        raw: raw(c),
    });
    out.push(r.map(|claim| Parsed {
        claim,
        line: Some(line),
        record: Some(*record),
    }));
}

fn to_claim(c: &Value) -> Result<Claim, String> {
    if !c.is_object() {
        return Err("bad claim: not a JSON object".into());
    }
    let claim_text = c
        .get("text")
        .and_then(text)
        .ok_or("missing text: the claim has no `text`")?;
    let reviews_v = match c.get("claimReview") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | None => {
            return Err("missing claimReview: the claim has no fact-check".into());
        }
        Some(_) => return Err("bad claimReview: not an array".into()),
    };
    let mut reviews = Vec::new();
    for (i, r) in reviews_v.iter().enumerate() {
        if !r.is_object() {
            return Err(format!("bad claimReview[{i}]: not a JSON object"));
        }
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).and_then(nonempty);
        let publisher = r.get("publisher");
        reviews.push(Review {
            publisher: publisher.and_then(|p| p.get("name")).and_then(text),
            publisher_site: publisher
                .and_then(|p| p.get("site"))
                .and_then(|v| v.as_str())
                .and_then(nonempty),
            url: s("url"),
            title: s("title"),
            date: s("reviewDate").and_then(|d| date(&d)),
            rating: s("textualRating"),
            lang: s("languageCode").and_then(|l| lang_code(&l)),
            ..Review::default()
        });
    }
    let first_url = reviews.iter().find_map(|r| r.url.clone());
    Ok(Claim {
        id: claim_id(
            "fc",
            &[
                &normalize_text(&claim_text),
                first_url.as_deref().unwrap_or(""),
            ],
        ),
        lang: reviews.iter().find_map(|r| r.lang.clone()),
        title: reviews.iter().find_map(|r| r.title.clone()),
        claimant: c.get("claimant").and_then(text),
        claim_date: c.get("claimDate").and_then(text).and_then(|d| date(&d)),
        text: claim_text,
        reviews,
        ..Claim::default()
    })
}
