//! Parity with CooRTweet 2.1.3 on its own outputs.
//!
//! The oracles live outside the repository (`$PHAROS_DATA/coortweet/`,
//! default `../shared/data` next to the checkout); run with
//! `cargo test -p pharos-analysis --features real-data`.
//!
//! Pharos writes its CSVs, they are parsed back, and compared with
//! CooRTweet's as sets of rows: same rows, integers equal, reals within 1e-9.
#![cfg(feature = "real-data")]

use pharos_analysis::coordination::{
    Coordination, CoortweetParams, PairWriter, ShareTable, Subgraph, read_coortweet_csv,
    write_edges,
};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

fn oracle(name: &str) -> PathBuf {
    let p = data_dir().join("coortweet").join(name);
    assert!(
        p.exists(),
        "missing oracle {} (set PHAROS_DATA to the shared data directory)",
        p.display()
    );
    p
}

/// Header and rows of a CSV (gzip when the name ends in .gz).
fn read_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn read_oracle(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(oracle(name)).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    read_rows(&bytes)
}

fn load(name: &str) -> ShareTable {
    read_coortweet_csv(&oracle(name)).unwrap()
}

/// Runs detection and writes both CSVs as the command line does.
fn run(t: &ShareTable, tw: i64, mp: u32, sub: Subgraph) -> (Vec<u8>, Vec<u8>) {
    let params = CoortweetParams {
        time_window: tw,
        min_participation: mp,
        ..Default::default()
    };
    let mut c = Coordination::new(t, &params).unwrap();
    let mut w = PairWriter::new(Vec::new(), t, None).unwrap();
    let edges = c.run(Some(&mut |p| w.write(p))).unwrap();
    let pairs = w.finish().unwrap();
    let net = edges.network(0.5, sub).unwrap();
    let mut e = Vec::new();
    write_edges(&mut e, t, &net).unwrap();
    (pairs, e)
}

/// Compares rows as multisets; `reals` are the columns compared within 1e-9.
fn same_rows(
    what: &str,
    want: (Vec<String>, Vec<Vec<String>>),
    got: (Vec<String>, Vec<Vec<String>>),
    key: usize,
    reals: &[&str],
) {
    let (wh, wr) = want;
    let (gh, gr) = got;
    assert_eq!(gh[..wh.len()], wh[..], "{what}: header");
    assert_eq!(gr.len(), wr.len(), "{what}: row count");
    let real: Vec<bool> = wh.iter().map(|h| reals.contains(&h.as_str())).collect();
    let index = |rows: &[Vec<String>]| {
        let mut m: BTreeMap<Vec<String>, Vec<Vec<String>>> = BTreeMap::new();
        for r in rows {
            m.entry(r[..key].to_vec()).or_default().push(r.clone());
        }
        m
    };
    let (wi, gi) = (index(&wr), index(&gr));
    assert_eq!(
        wi.keys().collect::<Vec<_>>(),
        gi.keys().collect::<Vec<_>>(),
        "{what}: row keys"
    );
    for (k, ws) in &wi {
        let mut ws = ws.clone();
        let mut gs: Vec<Vec<String>> = gi[k].iter().map(|r| r[..wh.len()].to_vec()).collect();
        ws.sort();
        gs.sort();
        assert_eq!(ws.len(), gs.len(), "{what}: rows for {k:?}");
        for (w, g) in ws.iter().zip(&gs) {
            for (c, (a, b)) in w.iter().zip(g).enumerate() {
                if real[c] {
                    let (x, y): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                    assert!(
                        (x - y).abs() <= 1e-9,
                        "{what}: {} of {k:?}: {a} vs {b}",
                        wh[c]
                    );
                } else {
                    assert_eq!(a, b, "{what}: {} of {k:?}", wh[c]);
                }
            }
        }
    }
}

const EDGE_REALS: &[&str] = &["avg_time_delta", "edge_symmetry_score"];

#[test]
fn simulated_data_gives_exactly_the_expected_pairs() {
    let t = load("sim_input.csv.gz");
    let (pairs, _) = run(&t, 10, 2, Subgraph::Full);
    let (mut h, rows) = read_oracle("sim_expected.csv.gz");
    // The simulation also lists the pairs it planted outside the window
    // (coordinated = FALSE): detect_groups returns the others.
    let col = h.iter().position(|c| c == "coordinated").unwrap();
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|r| r[col] == "TRUE")
        .map(|mut r| {
            r.remove(col);
            r
        })
        .collect();
    h.remove(col);
    assert_eq!(rows.len(), 9954);
    same_rows("sim pairs", (h, rows), read_rows(&pairs), 3, &[]);
}

fn russian(tw: i64, mp: u32) {
    let t = load("russian_coord_tweets.csv.gz");
    assert_eq!(t.len(), 35_125);
    let tag = format!("ref_russian_tw{tw}_mp{mp}");
    let (pairs, edges) = run(&t, tw, mp, Subgraph::Full);
    same_rows(
        &format!("{tag} pairs"),
        read_oracle(&format!("{tag}_pairs.csv.gz")),
        read_rows(&pairs),
        3,
        &[],
    );
    same_rows(
        &format!("{tag} edges"),
        read_oracle(&format!("{tag}_edges.csv.gz")),
        read_rows(&edges),
        2,
        EDGE_REALS,
    );
    let (_, thr) = run(&t, tw, mp, Subgraph::Weighted);
    same_rows(
        &format!("{tag} thr_edges"),
        read_oracle(&format!("{tag}_thr_edges.csv.gz")),
        read_rows(&thr),
        2,
        &[],
    );
}

#[test]
fn russian_coord_tweets_60s_min_participation_2() {
    russian(60, 2);
}

#[test]
fn russian_coord_tweets_10s_min_participation_5() {
    russian(10, 5);
}
