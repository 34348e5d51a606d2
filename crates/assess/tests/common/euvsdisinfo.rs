//! EUvsDisinfo's case table as dated keyword lists (shared by the real-data
//! test and the `prebunk_eval` example).

use pharos_core::EventTime;
use std::path::Path;

/// `(date, lowercase keywords)` of every case with a readable date.
pub fn cases(path: &Path) -> Vec<(EventTime, Vec<String>)> {
    let mut r = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("missing data file {}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (date, kw) = (col("date"), col("keywords"));
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let Some(t) = mdy(&rec[date]) else { continue };
        let k: Vec<String> = rec[kw]
            .split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        out.push((t, k));
    }
    out
}

/// `MM/DD/YY` as midnight UTC.
fn mdy(s: &str) -> Option<EventTime> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%m/%d/%y").ok()?;
    Some(EventTime(
        d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
    ))
}
