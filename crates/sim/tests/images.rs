//! The image-reuse campaign: posts reference pictures that `write_images`
//! writes; copies of one picture stay within PDQ distance 31 of each other
//! (crop, resize and re-encode), different pictures do not; the first
//! original is declared AI-generated; same config, same bytes.

use pharos_core::Post;
use pharos_media::{AiDeclaration, PdqHash};
use pharos_sim::{SimConfig, write_images};
use std::collections::BTreeMap;

fn scenario(dir: &std::path::Path, posts: u64, seed: u64) -> (Vec<Post>, pharos_sim::Truth) {
    let cfg = SimConfig::new(posts, seed).with_images();
    let mut out = Vec::new();
    let truth = pharos_sim::simulate(&cfg, &mut out, &mut |_| {}).unwrap();
    let posts: Vec<Post> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let written = write_images(&cfg, dir).unwrap();
    let c = truth
        .campaigns
        .iter()
        .find(|c| c.kind == "image_reuse")
        .unwrap();
    assert_eq!(written.files as usize, c.media.len());
    (posts, truth)
}

#[test]
fn campaign_pictures_are_written_near_copies_and_declared() {
    let dir = tempfile::tempdir().unwrap();
    let (posts, truth) = scenario(dir.path(), 20_000, 3);
    let c = truth
        .campaigns
        .iter()
        .find(|c| c.kind == "image_reuse")
        .unwrap();
    assert!(c.accounts.len() >= 4 && c.media.len() >= 12, "{c:?}");
    // Every campaign post carries one of the pictures, by relative path.
    let ids: std::collections::HashSet<&str> = c.posts.iter().map(String::as_str).collect();
    let mut referenced = Vec::new();
    for p in posts.iter().filter(|p| ids.contains(p.id.as_str())) {
        assert_eq!(p.media.len(), 1, "{p:?}");
        assert!(c.accounts.contains(&p.actor.id));
        referenced.push(p.media[0].url.clone());
    }
    assert_eq!(referenced, c.media);
    // Hash every file; group by picture (the `imgNN` part of the name).
    let mut by_picture: BTreeMap<String, Vec<PdqHash>> = BTreeMap::new();
    for rel in &c.media {
        let i = pharos_media::inspect(&dir.path().join(rel)).unwrap();
        assert!(i.quality >= 50, "{rel}: quality {}", i.quality);
        let declared = i.ai_declaration();
        if c.ai_media.contains(rel) {
            assert_eq!(declared, Some(AiDeclaration::Xmp), "{rel}");
        } else {
            assert_eq!(declared, None, "{rel}");
        }
        let picture = rel.rsplit('/').next().unwrap()[..5].to_string();
        by_picture.entry(picture).or_default().push(i.pdq);
    }
    assert_eq!(c.ai_media.len(), 1);
    let pictures: Vec<&Vec<PdqHash>> = by_picture.values().collect();
    assert!(pictures.len() >= 3);
    let (mut near, mut pairs) = (0, 0);
    for (a, hs) in pictures.iter().enumerate() {
        for (i, x) in hs.iter().enumerate() {
            for y in &hs[i + 1..] {
                pairs += 1;
                near += usize::from(x.distance(y) <= 31);
            }
            for other in &pictures[a + 1..] {
                for y in other.iter() {
                    assert!(x.distance(y) > 60, "different pictures stay apart");
                }
            }
        }
    }
    assert!(
        near as f64 >= 0.95 * pairs as f64,
        "{near} of {pairs} copy pairs within 31"
    );
}

#[test]
fn same_config_same_pictures_and_text_scenarios_reference_none() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, truth) = scenario(a.path(), 8_000, 5);
    scenario(b.path(), 8_000, 5);
    let c = truth
        .campaigns
        .iter()
        .find(|c| c.kind == "image_reuse")
        .unwrap();
    for rel in &c.media {
        assert_eq!(
            std::fs::read(a.path().join(rel)).unwrap(),
            std::fs::read(b.path().join(rel)).unwrap(),
            "{rel}"
        );
    }
    // Without the campaign: no picture to write.
    let empty = tempfile::tempdir().unwrap();
    let w = write_images(&SimConfig::new(8_000, 5), empty.path()).unwrap();
    assert_eq!(w.files, 0);
}
