//! End-to-end tests of `pharos coordination` reports (`--json`, `--graphml`,
//! `--evidence-out`) from a store and from a CooRTweet CSV.

use serde_json::Value;
use std::path::Path;

mod common;
use common::{ok as pharos, s};

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A canonical post that retweets `rt` (or an original post when empty).
fn post(id: &str, user: &str, time: &str, rt: &str, lang: &str) -> String {
    let rt = if rt.is_empty() {
        String::new()
    } else {
        format!(r#","reshare_of":"{rt}""#)
    };
    format!(
        r#"{{"platform":"twitter","id":"{id}","actor":{{"id":"{user}"}},"time":"{time}","text":"RT <b>&amp; {id}","lang":"{lang}"{rt}}}"#
    )
}

#[test]
fn store_directed_report_has_networks_and_evidence() {
    let dir = tempfile::tempdir().unwrap();
    // Two groups: a, b, c retweet r1 and r2 together; x, y retweet r3, r4.
    let lines = [
        post("1", "a", "2024-05-01T10:00:00Z", "r1", "en"),
        post("2", "b", "2024-05-01T10:00:05Z", "r1", "en"),
        post("3", "c", "2024-05-01T10:00:09Z", "r1", "en"),
        post("4", "a", "2024-05-01T11:00:00Z", "r2", "en"),
        post("5", "b", "2024-05-01T11:00:02Z", "r2", "en"),
        post("6", "c", "2024-05-01T11:00:20Z", "r2", "en"),
        post("7", "x", "2024-05-01T12:00:00Z", "r3", "uk"),
        post("8", "y", "2024-05-01T12:00:30Z", "r3", "uk"),
        post("9", "x", "2024-05-01T13:00:00Z", "r4", "uk"),
        post("10", "y", "2024-05-01T13:00:10Z", "r4", "uk"),
        post("11", "a", "2024-05-01T14:00:00Z", "", "en"),
        // Outside --until: never read.
        post("12", "x", "2024-06-01T12:00:00Z", "r3", "uk"),
        post("13", "y", "2024-06-01T12:00:01Z", "r3", "uk"),
    ];
    let input = dir.path().join("posts.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let store = dir.path().join("p.db");
    pharos(&["ingest", "--store", s(&store), s(&input)]);

    let json = dir.path().join("out.json");
    let graphml = dir.path().join("out.graphml");
    let evidence = dir.path().join("evidence.jsonl");
    let edges = dir.path().join("edges.csv");
    pharos(&[
        "coordination",
        "--store",
        s(&store),
        "--until",
        "2024-05-02",
        "--method",
        "directed",
        "--kind",
        "co-retweet",
        "--time-window",
        "60",
        "--min-edge-weight",
        "2",
        "--json",
        s(&json),
        "--graphml",
        s(&graphml),
        "--evidence-out",
        s(&evidence),
        "--edges-out",
        s(&edges),
    ]);
    let r = read_json(&json);
    assert_eq!(r["method"], "directed");
    assert_eq!(r["parameters"]["kind"], "co-retweet");
    assert_eq!(r["summary"]["communities"], 2);
    assert_eq!(r["summary"]["components"], 2);
    // a↔b (r1, r2), a↔c and b↔c (r1, r2 within 60 s), x↔y (r3, r4).
    assert_eq!(r["summary"]["edges"], 8);
    let nets = r["communities"].as_array().unwrap();
    let abc = &nets[0];
    assert_eq!(abc["members"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(abc["edges"], 6);
    assert_eq!(abc["density"], 1.0);
    assert_eq!(abc["edge_symmetry"], 1.0);
    assert_eq!(abc["languages"][0]["value"], "en");
    assert_eq!(abc["platforms"][0]["value"], "twitter");
    // a's original post 11 is one of its posts, never coordinated.
    assert_eq!(abc["coordinated_posts"], 6);
    assert_eq!(abc["member_posts"], 7);
    assert_eq!(abc["first_activity"], "2024-05-01T10:00:00.000Z");
    assert_eq!(abc["last_activity"], "2024-05-01T11:00:20.000Z");
    let xy = &nets[1];
    assert_eq!(xy["members"], serde_json::json!(["x", "y"]));
    // Deltas 30 and 10, both directions: median 20.
    assert_eq!(xy["median_time_delta"], 20.0);
    assert_eq!(xy["languages"][0]["value"], "uk");
    assert_eq!(xy["evidence"].as_array().unwrap().len(), 4);

    // Every edge lists its posts with text; the weight is the number of
    // distinct posts of `from`.
    for e in r["edges"].as_array().unwrap() {
        let ev = e["evidence"].as_array().unwrap();
        assert_eq!(e["evidence_total"].as_u64().unwrap() as usize, ev.len());
        let mut firsts: Vec<&str> = ev
            .iter()
            .map(|p| p["post"]["id"].as_str().unwrap())
            .collect();
        firsts.dedup();
        assert_eq!(firsts.len() as f64, e["weight"].as_f64().unwrap());
        for p in ev {
            assert_eq!(p["post"]["account"], e["from"]);
            assert_eq!(p["post_y"]["account"], e["to"]);
            assert!(p["post"]["text"].as_str().unwrap().starts_with("RT <b>"));
        }
    }
    let xy_edge = r["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "x")
        .unwrap();
    let ids: Vec<(&str, &str)> = xy_edge["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["post"]["id"].as_str().unwrap(),
                p["post_y"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![("twitter:7", "twitter:8"), ("twitter:9", "twitter:10")]
    );

    // The evidence file: one edge per line.
    let lines: Vec<Value> = std::fs::read_to_string(&evidence)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    // The fixed CSV still comes out.
    let csv = std::fs::read_to_string(&edges).unwrap();
    assert!(csv.starts_with("user_1,user_2,weight\n"));
    assert_eq!(csv.lines().count(), 9);

    let g = std::fs::read_to_string(&graphml).unwrap();
    assert!(g.contains(r#"edgedefault="directed""#));
    assert_eq!(g.matches("<node ").count(), 5);
    assert_eq!(g.matches("<edge ").count(), 8);
    assert!(g.contains(r#"attr.name="community""#));
}

#[test]
fn coortweet_csv_report() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "object_id,account_id,content_id,timestamp_share\n\
               o1,a,c1,0\no1,b,c2,2\no1,c,c3,5\n\
               o2,a,c4,100\no2,b,c5,101\no2,c,c6,104\n\
               o3,d,c7,200\no3,e,c8,210\n\
               o4,d,c9,300\no4,e,c10,300\n\
               o5,a,c11,1000\no6,d,c12,2000\n";
    let input = dir.path().join("shares.csv");
    std::fs::write(&input, csv).unwrap();
    let (json, graphml, pairs, edges) = (
        dir.path().join("r.json"),
        dir.path().join("r.graphml"),
        dir.path().join("pairs.csv"),
        dir.path().join("edges.csv"),
    );
    pharos(&[
        "coordination",
        "--input",
        s(&input),
        "--format",
        "coortweet",
        "--method",
        "coortweet",
        "--time-window",
        "10",
        "--min-participation",
        "2",
        "--edge-weight",
        "0.5",
        "--pairs-out",
        s(&pairs),
        "--edges-out",
        s(&edges),
        "--json",
        s(&json),
        "--graphml",
        s(&graphml),
    ]);
    let r = read_json(&json);
    assert_eq!(r["method"], "coortweet");
    assert_eq!(r["summary"]["communities"], 2);
    assert_eq!(r["summary"]["evidence_pairs"], 8);
    let abc = &r["communities"][0];
    assert_eq!(abc["members"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(abc["median_time_delta"], 3.0);
    assert_eq!(abc["edge_symmetry"], 1.0);
    assert_eq!(abc["member_posts"], 7);
    // A bare CSV has no platforms or languages.
    assert_eq!(abc["platforms"], serde_json::json!([]));
    // Each edge's evidence is its rows of the pairs CSV.
    let pair_rows: Vec<Vec<String>> = std::fs::read_to_string(&pairs)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(pair_rows.len(), 8);
    for e in r["edges"].as_array().unwrap() {
        let (from, to) = (e["from"].as_str().unwrap(), e["to"].as_str().unwrap());
        let mut want: Vec<(String, String, String)> = pair_rows
            .iter()
            .filter(|p| (p[4] == from && p[5] == to) || (p[4] == to && p[5] == from))
            .map(|p| (p[0].clone(), p[1].clone(), p[2].clone()))
            .collect();
        let mut got: Vec<(String, String, String)> = e["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["object"].as_str().unwrap().to_string(),
                    p["post"]["id"].as_str().unwrap().to_string(),
                    p["post_y"]["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        assert!(e["columns"]["edge_symmetry_score"].is_number());
    }
    // Fixed CSV columns are unchanged.
    let edges = std::fs::read_to_string(&edges).unwrap();
    assert!(edges.starts_with(
        "from,to,weight,avg_time_delta,n_content_id,n_content_id_y,edge_symmetry_score,weight_threshold\n"
    ));
    let g = std::fs::read_to_string(&graphml).unwrap();
    assert!(g.contains(r#"edgedefault="undirected""#));
    assert_eq!(g.matches("<node ").count(), 5);
    assert_eq!(g.matches("<edge ").count(), 4);
}

#[test]
fn input_and_store_are_alternatives() {
    let out = common::run(&["coordination", "--method", "coortweet", "--json", "x.json"]);
    assert!(!out.status.success());
    let out = common::run(&[
        "coordination",
        "--input",
        "a.csv",
        "--store",
        "p.db",
        "--json",
        "x",
    ]);
    assert!(!out.status.success());
}
