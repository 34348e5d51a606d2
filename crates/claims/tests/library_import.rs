//! Importers and the on-disk library, on fixtures written for these tests.

use pharos_claims::library::{
    self, CLAIMS_FILE, ImportFormat, ImportOptions, ImportSummary, Library, LibraryError,
    PROVENANCE_FILE, QUARANTINE_FILE, default_library_dir, normalize_text,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn import(dir: &Path, format: ImportFormat, files: &[PathBuf]) -> ImportSummary {
    let opts = ImportOptions {
        detect_lang: true,
        ..ImportOptions::default()
    };
    library::import(dir, format, files, &opts).expect("import")
}

fn quarantine_lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join(QUARANTINE_FILE))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("quarantine line is JSON"))
        .collect()
}

fn by_text<'a>(lib: &'a Library, text: &str) -> &'a pharos_claims::Claim {
    let n = normalize_text(text);
    lib.claims()
        .iter()
        .find(|c| normalize_text(&c.text) == n)
        .unwrap_or_else(|| panic!("no claim {text:?} in the library"))
}

#[test]
fn claimreview_html_page_reads_every_json_ld_review_and_quarantines_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    let s = import(
        &dir,
        ImportFormat::ClaimReview,
        &[fixture("claimreview_page.html")],
    );
    assert_eq!((s.records, s.added, s.merged, s.unchanged), (4, 2, 0, 0));
    assert_eq!(s.quarantined, 2);
    assert_eq!(s.claims, 2);
    assert!(s.changed);

    let lib = Library::open(&dir).unwrap();
    let c = by_text(&lib, "5G towers spread the coronavirus.");
    assert!(c.id.starts_with("fc-"));
    assert_eq!(c.lang.as_deref(), Some("en"));
    assert_eq!(c.claimant.as_deref(), Some("A. Blogger"));
    assert_eq!(c.claim_date.as_deref(), Some("2024-04-28"));
    assert_eq!(c.title.as_deref(), Some("5G towers do not spread viruses"));
    assert_eq!(
        c.appearances,
        vec![
            "https://blog.example.net/5g-truth",
            "https://social.example.com/p/1",
            "https://social.example.com/p/2"
        ]
    );
    let r = &c.reviews[0];
    assert_eq!(r.publisher.as_deref(), Some("Example Fact Check"));
    assert_eq!(r.publisher_site.as_deref(), Some("factcheck.example.org"));
    assert_eq!(r.rating.as_deref(), Some("False"));
    assert_eq!(
        (r.rating_value, r.best_rating, r.worst_rating),
        (Some(1.0), Some(5.0), Some(1.0))
    );
    assert_eq!(r.date.as_deref(), Some("2024-05-02"));
    assert!(r.text.as_deref().unwrap().starts_with("Radio waves"));

    // @graph, @type as an array, language as an object, a zoned timestamp.
    let chips = by_text(&lib, "Vaccines contain microchips");
    assert_eq!(chips.lang.as_deref(), Some("en"));
    assert_eq!(chips.reviews[0].rating.as_deref(), Some("Pants on fire"));
    assert_eq!(chips.reviews[0].rating_value, Some(0.0));
    assert_eq!(
        chips.reviews[0].date.as_deref(),
        Some("2024-05-03T07:30:00.000Z")
    );

    // The commented-out script is not read.
    assert!(lib.claims().iter().all(|c| c.text != "commented out"));

    let q = quarantine_lines(&dir);
    assert_eq!(q.len(), 2);
    assert!(q.iter().all(|l| {
        l["file"]
            .as_str()
            .unwrap()
            .ends_with("claimreview_page.html")
            && l["format"] == "claimreview"
    }));
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("bad JSON-LD: trailing comma at line 1 column 94"),
        "{}",
        q[0]
    );
    assert_eq!(q[0]["line"], 42);
    assert!(
        q[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("missing claimReviewed")
    );
    assert_eq!(q[1]["record"], 3);
    assert!(q[1]["raw"].as_str().unwrap().contains("no-claim"));
    assert_eq!(s.quarantine_reasons.values().sum::<u64>(), 2);
    assert_eq!(s.files[0].errors.len(), 2);
    assert!(
        s.files[0].errors[1]
            .contains("claimreview_page.html record 3 (line 45): missing claimReviewed")
    );
}

#[test]
fn datafeed_and_api_merge_into_the_same_claim_by_text_and_review_url() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    import(
        &dir,
        ImportFormat::ClaimReview,
        &[fixture("claimreview_page.html")],
    );

    // DataFeed: the 5G review again (other case and punctuation, same URL) adds
    // its keywords; a Russian review is new; an empty claim is quarantined.
    let feed = import(
        &dir,
        ImportFormat::ClaimReview,
        &[fixture("claimreview_feed.json")],
    );
    assert_eq!(
        (feed.records, feed.added, feed.merged, feed.quarantined),
        (3, 1, 1, 1)
    );
    assert_eq!(feed.claims, 3);

    let api = import(
        &dir,
        ImportFormat::FactcheckApi,
        &[fixture("factcheck_api.json")],
    );
    assert_eq!(
        (api.records, api.added, api.merged, api.quarantined),
        (4, 1, 1, 2)
    );
    assert_eq!(api.claims, 4);

    let lib = Library::open(&dir).unwrap();
    let c = by_text(&lib, "5G towers spread the coronavirus");
    assert_eq!(c.keywords, vec!["5G", "coronavirus"]);
    // The union of reviews: the English review once, the French one added.
    let urls: Vec<_> = c
        .reviews
        .iter()
        .map(|r| r.url.as_deref().unwrap())
        .collect();
    assert_eq!(
        urls,
        vec![
            "https://factcheck.example.org/2024/05/5g-virus",
            "https://verif.example.fr/5g-virus"
        ]
    );
    let fr = &c.reviews[1];
    assert_eq!(fr.lang.as_deref(), Some("fr"));
    assert_eq!(fr.rating.as_deref(), Some("Faux"));
    assert_eq!(fr.publisher.as_deref(), Some("Autre Vérif"));
    assert_eq!(fr.publisher_site.as_deref(), Some("verif.example.fr"));
    assert_eq!(fr.date.as_deref(), Some("2024-05-05T00:00:00.000Z"));
    // The first import's claimant stays.
    assert_eq!(c.claimant.as_deref(), Some("A. Blogger"));

    let ru = by_text(&lib, "Вышки 5G распространяют коронавирус");
    assert_eq!(ru.lang.as_deref(), Some("ru"));
    assert_eq!(ru.reviews[0].rating.as_deref(), Some("Ложь"));

    let flu = by_text(&lib, "Drinking hot water cures the flu");
    assert_eq!(flu.claimant.as_deref(), Some("Viral video"));
    assert_eq!(flu.reviews[0].rating.as_deref(), Some("Misleading"));

    // Provenance: the 5G claim came from three files.
    let files: std::collections::BTreeSet<_> = lib
        .provenance_of(&c.id)
        .map(|p| (p.format, Path::new(&p.file).file_name().unwrap().to_owned()))
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let reasons: Vec<String> = quarantine_lines(&dir)
        .iter()
        .map(|l| l["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(reasons.iter().any(|r| r.starts_with("missing text")));
    assert!(reasons.iter().any(|r| r.starts_with("missing claimReview")));
}

#[test]
fn reimporting_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    let files = [
        fixture("claimreview_page.html"),
        fixture("claimreview_feed.json"),
    ];
    let first = import(&dir, ImportFormat::ClaimReview, &files);
    let claims_before = std::fs::read(dir.join(CLAIMS_FILE)).unwrap();
    let prov_before = std::fs::read(dir.join(PROVENANCE_FILE)).unwrap();
    let gen_before = Library::open(&dir).unwrap().generation();

    let again = import(&dir, ImportFormat::ClaimReview, &files);
    assert_eq!(again.added + again.merged, 0);
    assert_eq!(
        again.unchanged,
        first.added + first.merged + first.unchanged
    );
    assert!(!again.changed);
    assert_eq!(again.claims, first.claims);
    assert_eq!(std::fs::read(dir.join(CLAIMS_FILE)).unwrap(), claims_before);
    assert_eq!(
        std::fs::read(dir.join(PROVENANCE_FILE)).unwrap(),
        prov_before
    );
    assert_eq!(Library::open(&dir).unwrap().generation(), gen_before);

    // A new claim changes the generation.
    import(
        &dir,
        ImportFormat::FactcheckApi,
        &[fixture("factcheck_api.json")],
    );
    assert_ne!(Library::open(&dir).unwrap().generation(), gen_before);
}

#[test]
fn euvsdisinfo_cases_merge_by_claim_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    let s = import(
        &dir,
        ImportFormat::Euvsdisinfo,
        &[fixture("euvsdisinfo_sample.csv")],
    );
    assert_eq!((s.records, s.added, s.merged, s.quarantined), (6, 3, 1, 2));
    let lib = Library::open(&dir).unwrap();
    let c = by_text(
        &lib,
        "The explosions in the depot were staged by the soldiers themselves",
    );
    assert!(c.id.starts_with("euvsdisinfo-"));
    assert_eq!(c.title.as_deref(), Some("Explosions were staged"));
    assert_eq!(c.claim_date.as_deref(), Some("2017-10-03"));
    assert_eq!(c.outlets, vec!["TV Example", "Radio Example"]);
    assert_eq!(c.languages, vec!["ru", "cs"]);
    assert_eq!(
        c.appearances,
        vec![
            "https://tv.example.ru/news/1",
            "https://radio.example.cz/a",
            "https://radio.example.cz/b"
        ]
    );
    assert_eq!(c.keywords, vec!["Military", "Explosions"]);
    assert_eq!(c.lang.as_deref(), Some("en"), "detected from the summary");
    let r = &c.reviews[0];
    assert_eq!(r.publisher.as_deref(), Some("EUvsDisinfo"));
    assert_eq!(r.lang.as_deref(), Some("en"));
    assert!(
        r.text
            .as_deref()
            .unwrap()
            .starts_with("No evidence was given")
    );

    // Empty summary: the title is the claim.
    let t = by_text(&lib, "Ukraine is a testing site for US biological weapons");
    assert_eq!(
        t.languages,
        Vec::<String>::new(),
        "\"Spain\" is not a language"
    );
    // A quoted field over two lines; its provenance names its first line.
    let m = by_text(
        &lib,
        "The EU has banned Christmas markets in all member states.",
    );
    assert_eq!(
        m.reviews[0].text.as_deref(),
        Some("There is no such ban. \"Fake\" story.")
    );
    let p: Vec<_> = lib.provenance_of(&m.id).collect();
    assert_eq!(p[0].line, Some(7));

    let q = quarantine_lines(&dir);
    assert_eq!(q.len(), 2);
    assert_eq!(q[0]["line"], 5);
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("missing claim")
    );
    assert_eq!(q[1]["line"], 6);
    assert!(
        q[1]["reason"]
            .as_str()
            .unwrap()
            .contains("expected 11 fields"),
        "{}",
        q[1]
    );
}

#[test]
fn checkthat_tsv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    let s = import(
        &dir,
        ImportFormat::Checkthat,
        &[fixture("checkthat_sample.tsv")],
    );
    assert_eq!(
        (s.records, s.added, s.unchanged, s.quarantined),
        (6, 3, 1, 2)
    );
    let lib = Library::open(&dir).unwrap();
    assert_eq!(
        lib.claims()
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        vec!["vclaim-sno-1", "vclaim-sno-2", "vclaim-sno-5"]
    );
    let c = lib.get("vclaim-sno-2").unwrap();
    assert_eq!(
        c.title.as_deref(),
        Some("Does Video Show a 10-Meter-Long Anaconda?"),
        "CR stripped"
    );
    assert_eq!(lib.get("vclaim-sno-5").unwrap().title, None);
    let q = quarantine_lines(&dir);
    assert_eq!(
        q.iter()
            .map(|l| l["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![4, 6]
    );
    assert!(q[0]["reason"].as_str().unwrap().contains("found 1"));
    assert!(
        q[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("missing vclaim")
    );
}

#[test]
fn a_file_that_cannot_be_read_or_is_not_the_format_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    import(
        &dir,
        ImportFormat::Checkthat,
        &[fixture("checkthat_sample.tsv")],
    );
    let before = std::fs::read(dir.join(CLAIMS_FILE)).unwrap();

    let missing = tmp.path().join("nope.json");
    let s = import(
        &dir,
        ImportFormat::ClaimReview,
        &[
            missing.clone(),
            fixture("checkthat_sample.tsv"),
            fixture("claimreview_feed.json"),
        ],
    );
    assert_eq!(s.failed_files, 2);
    assert!(s.files[0].error.as_deref().unwrap().contains("nope.json"));
    assert!(
        s.files[1]
            .error
            .as_deref()
            .unwrap()
            .contains("checkthat_sample.tsv: not JSON (expected value at line 1 column 1)"),
        "{:?}",
        s.files[1]
    );
    // The third file still went in, and the earlier claims are all there.
    assert_eq!(s.added, 2);
    let lib = Library::open(&dir).unwrap();
    assert_eq!(lib.len(), 5);
    let after = std::fs::read(dir.join(CLAIMS_FILE)).unwrap();
    assert!(after.starts_with(&before));
}

#[test]
fn opening_a_missing_library_names_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("absent.library");
    let e = Library::open(&dir).unwrap_err();
    assert!(matches!(e, LibraryError::NotFound { .. }));
    assert!(e.to_string().contains("absent.library"), "{e}");
}

#[test]
fn a_damaged_library_file_is_reported_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    import(
        &dir,
        ImportFormat::Checkthat,
        &[fixture("checkthat_sample.tsv")],
    );
    let p = dir.join(CLAIMS_FILE);
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str("{not json\n");
    std::fs::write(&p, text).unwrap();
    let e = Library::open(&dir).unwrap_err().to_string();
    assert!(e.contains("claims.jsonl line 4"), "{e}");
}

#[test]
fn default_library_sits_beside_the_store() {
    assert_eq!(
        default_library_dir(Path::new("cases/x.db")),
        PathBuf::from("cases/x.library")
    );
    assert_eq!(
        default_library_dir(Path::new("pharos.db")),
        PathBuf::from("pharos.library")
    );
}

#[test]
fn formats_parse_by_name() {
    for f in ImportFormat::ALL {
        assert_eq!(f.as_str().parse::<ImportFormat>().unwrap(), f);
    }
    let e = "csv".parse::<ImportFormat>().unwrap_err();
    assert!(e.contains("claimreview, factcheck-api, euvsdisinfo or checkthat"));
}
