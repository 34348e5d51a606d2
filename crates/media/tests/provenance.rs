//! C2PA provenance on files signed for these tests (fixtures/c2pa/make_fixtures.sh:
//! c2pa-python with a throwaway ES256 chain made by openssl).

use std::path::{Path, PathBuf};

use pharos_media::{AiDeclaration, inspect};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/c2pa")
        .join(name)
}

const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

#[test]
fn ai_generated_declaration_is_read_and_verified() {
    let i = inspect(&fixture("ai_generated.jpg")).unwrap();
    let c = i.c2pa.as_ref().expect("a manifest");
    assert!(c.valid, "{c:?}");
    assert!(c.ai_generated);
    assert_eq!(
        c.digital_source_type.as_deref(),
        Some(&*format!("{IPTC}trainedAlgorithmicMedia"))
    );
    assert_eq!(
        c.claim_generator.as_deref(),
        Some("Pharos fixture generator/1.0")
    );
    assert_eq!(c.signer.as_deref(), Some("Pharos Test Signer"));
    assert_eq!(i.ai_declaration(), Some(AiDeclaration::SignedC2pa));
}

#[test]
fn camera_capture_is_valid_and_not_ai() {
    let i = inspect(&fixture("camera.jpg")).unwrap();
    let c = i.c2pa.as_ref().unwrap();
    assert!(c.valid, "{c:?}");
    assert!(!c.ai_generated);
    assert_eq!(
        c.digital_source_type.as_deref(),
        Some(&*format!("{IPTC}digitalCapture"))
    );
    assert_eq!(i.ai_declaration(), None);
}

#[test]
fn a_file_altered_after_signing_is_broken_never_valid() {
    let i = inspect(&fixture("altered.jpg")).unwrap();
    let c = i.c2pa.as_ref().expect("the manifest is still there");
    assert!(!c.valid);
    assert!(
        c.failures.iter().any(|f| f.contains("dataHash.mismatch")),
        "{:?}",
        c.failures
    );
    let v = serde_json::to_value(&i).unwrap();
    assert_eq!(v["c2pa"]["valid"], false);
}

#[test]
fn no_manifest_is_null() {
    let i = inspect(&fixture("no_manifest.jpg")).unwrap();
    assert!(i.c2pa.is_none());
    assert!(serde_json::to_value(&i).unwrap()["c2pa"].is_null());
    assert_eq!(i.ai_declaration(), None);
}

#[test]
fn xmp_source_type_is_a_weaker_signal() {
    let i = inspect(&fixture("xmp_ai.jpg")).unwrap();
    assert!(i.c2pa.is_none());
    assert_eq!(
        i.xmp_digital_source_type.as_deref(),
        Some(&*format!("{IPTC}trainedAlgorithmicMedia"))
    );
    assert_eq!(i.ai_declaration(), Some(AiDeclaration::Xmp));
}
