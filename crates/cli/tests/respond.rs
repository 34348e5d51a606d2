//! `pharos respond` (packs, log, report) through the binary, on a simulated
//! scenario whose false-narrative campaign repeats a claim of its own
//! fact-check library.

use serde_json::Value;
use std::path::Path;
use std::process::Output;

mod common;
use common::run as pharos;

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_of(out: &Output) -> Value {
    let s = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// The `claim_matches` table as claim retrieval creates it.
fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn packs_log_and_report_on_a_simulated_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("s.jsonl");
    let store = dir.path().join("s.db");
    ok(pharos(&[
        "simulate",
        "--posts",
        "20000",
        "--seed",
        "7",
        "--out",
        &s(&sim),
        "-q",
    ]));
    ok(pharos(&["ingest", &s(&sim), "--store", &s(&store), "-q"]));
    ok(pharos(&[
        "claims",
        "import",
        "--format",
        "claimreview",
        &s(&dir.path().join("s.factchecks.json")),
        "--store",
        &s(&store),
    ]));
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.truth.json")).unwrap()).unwrap();
    let campaign = truth["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "false_narrative")
        .unwrap();
    let claim = campaign["claim"].as_str().unwrap();
    let factcheck = campaign["factcheck_url"].as_str().unwrap();
    // The campaign's second post: a tweet of the claim (the first is the channel's).
    let post_id = campaign["posts"][1].as_str().unwrap();

    // Without stored matches, the post is matched against the library now.
    let pack = json_of(&ok(pharos(&[
        "respond",
        "--post",
        post_id,
        "--store",
        &s(&store),
        "--json",
        "-q",
    ])));
    assert_eq!(pack["match_source"], "on-the-fly");
    assert_eq!(pack["claims"][0]["claim"]["text"], claim);
    assert_eq!(pack["claims"][0]["matches_post"], true);

    // The planted claim's matches, as `pharos claims match --store` records
    // them (table `claim_matches`), for the campaign's posts with text.
    let listed = ok(pharos(&[
        "claims",
        "list",
        "--store",
        &s(&store),
        "--json",
        "--limit",
        "0",
    ]));
    let lib: Value = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|c| c["reviews"][0]["url"] == factcheck)
        .expect("the planted claim is in the library");
    let claim_id = lib["id"].as_str().unwrap().to_string();
    {
        use pharos_store::{ClaimMatches, PostMatches, Store};
        let db = pharos_store::SqliteStore::open_existing(&store).unwrap();
        let mut rows = Vec::new();
        for id in campaign["posts"].as_array().unwrap() {
            let id = id.as_str().unwrap();
            for platform in db.platforms_with_id(id).unwrap() {
                let post = db.get(&platform, id).unwrap().unwrap();
                if post.reshare_of.is_some() {
                    continue;
                }
                rows.push(PostMatches {
                    platform,
                    post_id: id.to_string(),
                    matches: vec![(claim_id.clone(), 4.0, 0.9)],
                });
            }
        }
        db.replace_matches(&rows).unwrap();
    }

    // A pack for the post, as JSON.
    let pack = json_of(&ok(pharos(&[
        "respond",
        "--post",
        post_id,
        "--store",
        &s(&store),
        "--json",
        "-q",
    ])));
    assert_eq!(pack["target"]["kind"], "post");
    assert_eq!(pack["match_source"], "stored");
    assert_eq!(pack["claims"][0]["claim"]["text"], claim);
    assert_eq!(pack["claims"][0]["matches_post"], true);
    assert_eq!(pack["verdicts"][0]["url"], factcheck);
    assert_eq!(pack["verdicts"][0]["rating"], "False");
    assert_eq!(pack["verdicts"][0]["lang"], "en");
    assert!(pack["verdicts"][0]["publisher"].is_string());
    assert!(pack["verdicts"][0]["date"].is_string());
    assert_eq!(pack["drafts"][0]["lang"], "en");
    assert!(
        pack["drafts"][0]["text"]
            .as_str()
            .unwrap()
            .contains(factcheck)
    );
    let narrative = pack["target"]["narrative"]
        .as_u64()
        .expect("the post's narrative");
    // Most of the campaign's posts are in the narrative.
    let spread_posts = pack["spread"]["posts"].as_u64().unwrap();
    let campaign_posts = campaign["posts"].as_array().unwrap().len() as u64;
    assert!(
        spread_posts * 10 >= campaign_posts * 8,
        "{spread_posts} of {campaign_posts}"
    );
    let platforms: Vec<&str> = pack["spread"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    for p in campaign["platforms"].as_array().unwrap() {
        assert!(platforms.contains(&p.as_str().unwrap()), "{platforms:?}");
    }
    assert!(pack["timing"]["stage"].is_string());

    // The narrative id is the one `pharos narratives` prints for it.
    let list = json_of(&ok(pharos(&[
        "narratives",
        "--store",
        &s(&store),
        "--json",
        "-",
        "-q",
    ])));
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"].as_u64() == Some(narrative))
        .expect("pharos narratives lists the pack's narrative");
    assert_eq!(listed["label"]["text"], pack["target"]["label"]);

    // The narrative's pack, as Markdown to a file.
    let md = dir.path().join("pack.md");
    let out = ok(pharos(&[
        "respond",
        "--narrative",
        &narrative.to_string(),
        "--store",
        &s(&store),
        "--out",
        &s(&md),
    ]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote the response pack"));
    let text = std::fs::read_to_string(&md).unwrap();
    for part in [
        format!("# Response pack: narrative {narrative}"),
        format!("> {claim}"),
        "## Verdicts".to_string(),
        factcheck.to_string(),
        "## Correction draft (English)".to_string(),
        "## Where it spreads".to_string(),
        "## Timing".to_string(),
    ] {
        assert!(text.contains(&part), "missing {part:?} in\n{text}");
    }

    // Log a response eight hours into the campaign, then report.
    let start = campaign["start"].as_str().unwrap();
    let t = pharos_time_plus_hours(start, 8);
    let logged = json_of(&ok(pharos(&[
        "respond",
        "log",
        "--narrative",
        &narrative.to_string(),
        "--who",
        "StratCom East",
        "--when",
        &t,
        "--channel",
        "twitter",
        "--url",
        "https://x.example/status/1",
        "--partner",
        "ClaimCheck",
        "--store",
        &s(&store),
        "--json",
        "-q",
    ])));
    assert_eq!(logged["narrative"].as_u64(), Some(narrative));
    assert_eq!(logged["who"], "StratCom East");
    let report = json_of(&ok(pharos(&[
        "respond",
        "report",
        "--narrative",
        &narrative.to_string(),
        "--window",
        "6h",
        "--store",
        &s(&store),
        "--json",
        "-q",
    ])));
    let nr = &report["narratives"][0];
    assert_eq!(nr["narrative"].as_u64(), Some(narrative));
    let rr = &nr["responses"][0];
    assert_eq!(rr["response"]["channel"], "twitter");
    assert_eq!(rr["before"]["hours"], 6.0);
    let (before, after) = (
        rr["before"]["posts"].as_u64().unwrap(),
        rr["after"]["posts"].as_u64().unwrap(),
    );
    assert!(before + after > 0 && before + after <= spread_posts);
    assert!(
        rr["after"]["new_accounts"].as_u64().unwrap() <= rr["after"]["accounts"].as_u64().unwrap()
    );
    let text = String::from_utf8_lossy(
        &ok(pharos(&["respond", "report", "--store", &s(&store), "-q"])).stdout,
    )
    .into_owned();
    assert!(
        text.contains(
            "by StratCom East on twitter https://x.example/status/1 (partner ClaimCheck)"
        ),
        "{text}"
    );
    assert!(
        text.contains("before   6.0 h:") || text.contains("before  24.0 h:"),
        "{text}"
    );

    // Errors: unknown narrative, no target, bad time.
    let out = pharos(&[
        "respond",
        "--narrative",
        "987654",
        "--store",
        &s(&store),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no narrative 987654"));
    let out = pharos(&["respond", "--store", &s(&store)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--narrative ID"));
    let out = pharos(&[
        "respond",
        "log",
        "--narrative",
        "1",
        "--who",
        "x",
        "--when",
        "yesterday",
        "--channel",
        "y",
        "--store",
        &s(&store),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--when"));
}

/// `start` + `h` hours, RFC 3339.
fn pharos_time_plus_hours(start: &str, h: i64) -> String {
    let t = pharos_core::EventTime::parse(start).unwrap();
    pharos_core::EventTime(t.0 + h * 3_600_000).to_rfc3339()
}
