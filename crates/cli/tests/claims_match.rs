//! `pharos claims match`: both forms. A small library (English and Russian
//! claims) built through the library API; queries in a TSV with a header
//! and a malformed line; posts ingested into a store.

use pharos_claims::Claim;
use pharos_claims::library::Library;
use pharos_store::ClaimMatches;
use std::path::Path;

mod common;
use common::{ok, run as pharos, s};

fn claim(id: &str, text: &str, title: &str, lang: &str) -> Claim {
    Claim {
        id: id.into(),
        text: text.into(),
        title: Some(title.into()),
        lang: Some(lang.into()),
        ..Claim::default()
    }
}

fn library(dir: &Path) {
    let mut lib = Library::open_or_create(dir).unwrap();
    for c in [
        claim(
            "c-5g",
            "5G towers spread the coronavirus.",
            "Do 5G Towers Spread COVID-19?",
            "en",
        ),
        claim(
            "c-bleach",
            "Drinking bleach cures COVID-19.",
            "Does Bleach Cure the Coronavirus?",
            "en",
        ),
        claim(
            "c-wombat",
            "Wombats are herding animals to safety in their burrows during the Australian fires.",
            "Are Wombats Saving Animals from Fires?",
            "en",
        ),
        claim(
            "c-zelensky",
            "Зеленский купил виллу в Крыму.",
            "Вилла Зеленского",
            "ru",
        ),
        claim(
            "c-moon",
            "The Moon landing was filmed in a studio.",
            "Was the Moon Landing Faked?",
            "en",
        ),
    ] {
        lib.add(c);
    }
    lib.save().unwrap();
}

#[test]
fn checkthat_queries_give_a_trec_run_best_first() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    library(&lib);
    let queries = dir.path().join("q.tsv");
    std::fs::write(
        &queries,
        "tweet_id\ttweet_text\n\
         t1\tThey are putting up 5G towers everywhere to spread the coronavirus! pic.twitter.com/abc — Some One (@someone) March 3, 2020\n\
         this line has no tab\n\
         t2\tWombats herding animals into their burrows to save them from the #AustralianFires\n\
         t3\tZelensky bought a villa in Crimea, says a channel\n",
    )
    .unwrap();
    let run = dir.path().join("run.txt");
    let out = ok(&[
        "claims",
        "match",
        "--library",
        s(&lib),
        "--format",
        "checkthat",
        "--queries",
        s(&queries),
        "--top",
        "3",
        "--run-out",
        s(&run),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("q.tsv:3: expected id<TAB>text"),
        "malformed line not reported: {stderr}"
    );
    let text = std::fs::read_to_string(&run).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert_eq!(l.len(), 6, "{l:?}");
        assert_eq!(l[1], "Q0");
        assert_eq!(l[5], "pharos");
        l[3].parse::<usize>().expect("rank");
        l[4].parse::<f64>().expect("score");
    }
    let first = |q: &str| {
        lines
            .iter()
            .find(|l| l[0] == q)
            .map(|l| (l[2], l[3]))
            .unwrap_or_else(|| panic!("no line for {q}: {text}"))
    };
    assert_eq!(first("t1"), ("c-5g", "1"));
    assert_eq!(first("t2"), ("c-wombat", "1"));
    // Latin-script post, Cyrillic claim: they meet through transliteration.
    assert_eq!(first("t3"), ("c-zelensky", "1"));
    // At most --top lines per query, ranks 1.. in order, scores not increasing.
    for q in ["t1", "t2", "t3"] {
        let mine: Vec<&Vec<&str>> = lines.iter().filter(|l| l[0] == q).collect();
        assert!(mine.len() <= 3);
        for (i, l) in mine.iter().enumerate() {
            assert_eq!(l[3], (i + 1).to_string());
        }
        for w in mine.windows(2) {
            assert!(w[0][4].parse::<f64>().unwrap() >= w[1][4].parse::<f64>().unwrap());
        }
    }
    // The BM25 index is built in memory at each run: a second run gives
    // the same run file.
    ok(&[
        "claims",
        "match",
        "--library",
        s(&lib),
        "--queries",
        s(&queries),
        "--top",
        "3",
        "--run-out",
        s(&run),
    ]);
    assert_eq!(std::fs::read_to_string(&run).unwrap(), text);

    // With qrels: MAP printed.
    let qrels = dir.path().join("qrels.txt");
    std::fs::write(&qrels, "t1 0 c-5g 1\nt2 0 c-wombat 1\nt3 0 c-zelensky 1\n").unwrap();
    let out = ok(&[
        "claims",
        "match",
        "--library",
        s(&lib),
        "--queries",
        s(&queries),
        "--top",
        "5",
        "--run-out",
        s(&run),
        "--qrels",
        s(&qrels),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("MAP@5\t1.0000"));
}

#[test]
fn bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.txt");
    let q = dir.path().join("q.tsv");
    std::fs::write(&q, "a\tb\n").unwrap();
    let missing = dir.path().join("nolib");
    let out = pharos(&[
        "claims",
        "match",
        "--library",
        s(&missing),
        "--queries",
        s(&q),
        "--run-out",
        s(&run),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nolib"));

    let lib = dir.path().join("lib");
    library(&lib);
    let out = pharos(&[
        "claims",
        "match",
        "--library",
        s(&lib),
        "--queries",
        s(&dir.path().join("absent.tsv")),
        "--run-out",
        s(&run),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.tsv"));
}

#[test]
fn stored_posts_are_annotated_with_their_matches() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    library(&lib);
    let posts = dir.path().join("posts.jsonl");
    let post = |id: &str, text: &str| {
        format!(
            r#"{{"platform":"twitter","id":"{id}","actor":{{"id":"a{id}"}},"time":"2024-01-01T10:00:0{id}Z","text":"{text}","lang":"en"}}"#
        )
    };
    std::fs::write(
        &posts,
        [
            post("1", "5G towers spread the coronavirus, wake up"),
            post("2", "Lovely weather for a walk in the park today"),
            post(
                "3",
                "drinking bleach cures covid, they do not want you to know",
            ),
        ]
        .join("\n"),
    )
    .unwrap();
    let db = dir.path().join("s.db");
    ok(&["-q", "ingest", "--store", s(&db), s(&posts)]);
    let out = ok(&["claims", "match", "--library", s(&lib), "--store", s(&db)]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 posts matched"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let store = pharos_store::SqliteStore::open_existing(&db).unwrap();
    let m1 = pharos_claims::retrieval::store::stored_matches(&store, "twitter", "1").unwrap();
    assert_eq!(
        m1.first().map(|m| m.claim_id.as_str()),
        Some("c-5g"),
        "{m1:?}"
    );
    assert!(
        m1.iter()
            .all(|m| m.confidence >= 0.5 && m.confidence <= 1.0)
    );
    let m2 = pharos_claims::retrieval::store::stored_matches(&store, "twitter", "2").unwrap();
    assert!(m2.is_empty(), "an unrelated post matched: {m2:?}");
    let m3 = pharos_claims::retrieval::store::stored_matches(&store, "twitter", "3").unwrap();
    assert_eq!(
        m3.first().map(|m| m.claim_id.as_str()),
        Some("c-bleach"),
        "{m3:?}"
    );
    // The table other parts of Pharos read.
    let n = store
        .matches_at_least(f64::MIN)
        .unwrap()
        .iter()
        .filter(|m| m.platform == "twitter")
        .count();
    assert_eq!(n, m1.len() + m3.len());
    // Running again replaces, not duplicates.
    ok(&["claims", "match", "--library", s(&lib), "--store", s(&db)]);
    let again = pharos_claims::retrieval::store::stored_matches(&store, "twitter", "1").unwrap();
    assert_eq!(again, m1);
}

/// With `--model` (the model directory from PHAROS_EMBED_MODEL, which
/// `.ci/fetch-model` prints; the real-model suite): the encoder
/// re-ranks BM25's candidates, so a paraphrase that shares only a common
/// word with its claim still finds it first, and the run says which
/// kernel the encoder used.
#[cfg(feature = "real-data")]
#[test]
fn a_model_reranks_paraphrases_to_their_claim() {
    let model = std::env::var_os("PHAROS_EMBED_MODEL")
        .map(std::path::PathBuf::from)
        .filter(|d| d.join("model.safetensors").is_file())
        .expect("PHAROS_EMBED_MODEL must name the all-MiniLM-L6-v2 directory (.ci/fetch-model prints it)");
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    library(&lib);
    let queries = dir.path().join("q.tsv");
    std::fs::write(
        &queries,
        "t4\tSwallowing household disinfectant will heal you of the coronavirus, a healer claims\n\
         t5\tAstronauts never went to the lunar surface, it was all shot on a film set\n",
    )
    .unwrap();
    let run = |with_model: bool| -> (String, String) {
        let out_path = dir.path().join(format!("run-{with_model}.txt"));
        let mut args = vec![
            "claims",
            "match",
            "--library",
            s(&lib),
            "--queries",
            s(&queries),
            "--top",
            "2",
            "--run-out",
            s(&out_path),
        ];
        if with_model {
            args.extend(["--model", s(&model)]);
        }
        let out = ok(&args);
        (
            std::fs::read_to_string(&out_path).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (text, stderr) = run(true);
    assert!(
        ["amx", "avx512-bf16", "portable"]
            .iter()
            .any(|k| stderr.contains(&format!("run on the {k} kernel"))),
        "{stderr}"
    );
    let first = |text: &str, q: &str| -> String {
        text.lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .find(|l| l[0] == q && l[3] == "1")
            .map(|l| l[2].to_owned())
            .unwrap_or_default()
    };
    assert_eq!(first(&text, "t4"), "c-bleach", "{text}");
    assert_eq!(first(&text, "t5"), "c-moon", "{text}");
    // Without the model the same library and queries give BM25's order,
    // which is not the paraphrases' claim for t4.
    let (lexical, _) = run(false);
    assert_ne!(first(&lexical, "t4"), "c-bleach", "{lexical}");
}

/// `--store` matches each post without its source's learned boilerplate
/// (issue 19), as the stream paths' claim signal does: a channel whose
/// footer repeats a known claim under every story does not match the claim
/// on every post, while another account writing the same line once does.
/// The stored posts keep their footers.
#[test]
fn stored_posts_are_matched_without_their_channels_footer() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    library(&lib);
    let footer = "We expose the lie: 5G towers spread the coronavirus. Subscribe!";
    let post = |id: usize, actor: &str, text: &str| {
        format!(
            r#"{{"platform":"telegram","id":"{id}","actor":{{"id":"{actor}"}},"time":"2024-01-01T10:{:02}:00Z","text":"{text}","lang":"en"}}"#,
            id % 60
        )
    };
    // Stories with words of their own, so none of them is boilerplate.
    let mut lines: Vec<String> = (0..20)
        .map(|n| {
            post(
                n,
                "channel",
                &format!("Council meeting {n}: road w{n}x closes for repairs v{n}q.\\n\\n{footer}"),
            )
        })
        .collect();
    lines.push(post(20, "someone", footer));
    let posts = dir.path().join("posts.jsonl");
    std::fs::write(&posts, lines.join("\n")).unwrap();
    let db = dir.path().join("s.db");
    ok(&["-q", "ingest", "--store", s(&db), s(&posts)]);
    ok(&["claims", "match", "--library", s(&lib), "--store", s(&db)]);
    let store = pharos_store::SqliteStore::open_existing(&db).unwrap();
    let first = |id: usize| {
        pharos_claims::retrieval::store::stored_matches(&store, "telegram", &id.to_string())
            .unwrap()
            .first()
            .map(|m| m.claim_id.clone())
    };
    // The channel's first post still carries its footer (nothing is known
    // yet); from its second post on the footer is learned and gone.
    assert_eq!(first(0).as_deref(), Some("c-5g"));
    for n in 1..20 {
        assert_eq!(first(n), None, "post {n} matched through its footer");
    }
    // Another account saying it once is read whole.
    assert_eq!(first(20).as_deref(), Some("c-5g"));
    // The stored post is unchanged.
    let stored = pharos_store::Store::get(&store, "telegram", "5")
        .unwrap()
        .unwrap();
    assert!(stored.text.ends_with(footer), "{:?}", stored.text);
}
