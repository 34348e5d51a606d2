//! The claim query reader (`pharos claims match --queries`) on any bytes,
//! then matching the queries against a small library: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_claims::Claim;
use pharos_claims::retrieval::index::ClaimIndex;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.tsv");
    std::fs::write(&file, data).unwrap();
    let q = pharos_claims::retrieval::eval::read_queries(&file).unwrap();
    let claims: Vec<Claim> = [("a", "vaccines cause autism", "en"), ("b", "вакцины убивают", "ru"), ("c", "5G spreads the virus", "")]
        .iter()
        .map(|(id, text, lang)| Claim {
            id: id.to_string(),
            text: text.to_string(),
            lang: (!lang.is_empty()).then(|| lang.to_string()),
            ..Claim::default()
        })
        .collect();
    let idx = ClaimIndex::build(&claims);
    for (_, text) in &q.queries {
        let _ = idx.search(text, 5);
    }
});
