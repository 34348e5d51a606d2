//! The claim signal reads posts without their source's boilerplate (issue
//! 19): a channel's footer, learned by the narrative stage, is not part of
//! the text the fact-check matcher sees; the story is, and the posts
//! themselves are not changed.

use pharos_alerts::Rules;
use pharos_core::{Actor, EventTime, Post};
use pharos_pipeline::{AlertPipeline, ClaimHit, ClaimSignal};
use std::sync::{Arc, Mutex};

const FOOTER: &str = "Подписаться на канал | Прислать новость: @desk_bot";

/// Records the text of every post it is asked about.
struct Seen(Arc<Mutex<Vec<(String, String)>>>);

impl ClaimSignal for Seen {
    fn claims(&mut self, post: &Post) -> Vec<ClaimHit> {
        self.0
            .lock()
            .unwrap()
            .push((post.id.clone(), post.text.clone()));
        Vec::new()
    }
}

fn story(n: usize) -> String {
    // Words of their own per post, so no story is boilerplate.
    format!(
        "Report {n}: officials w{n}a and w{n}b said the bridge k{n} closed after inspection z{n}."
    )
}

fn post(channel: &str, n: usize, text: String) -> Post {
    Post {
        platform: "telegram".into(),
        id: format!("{channel}/{n}"),
        actor: Actor {
            id: channel.into(),
            ..Default::default()
        },
        time: EventTime(1_733_000_000_000 + n as i64 * 180_000),
        text,
        ..Default::default()
    }
}

#[test]
fn the_claim_signal_reads_posts_without_their_channels_footer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut p = AlertPipeline::new(Rules::default(), None, false).unwrap();
    p.set_claim_signal(Box::new(Seen(seen.clone())));
    let posts: Vec<Post> = (0..400)
        .map(|n| post("news", n, format!("{}\n\n{FOOTER}", story(n))))
        .collect();
    // Another channel quotes the footer once: for it, it is not boilerplate.
    let other = post("other", 400, format!("{}\n\n{FOOTER}", story(400)));
    for chunk in posts.chunks(50) {
        p.push_batch(chunk).unwrap();
    }
    p.push(&other).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 401, "every post reaches the claim signal once");
    // Once learned (well within the first 300 posts), the footer is gone
    // from what the matcher reads, and the story stays.
    for (n, (id, text)) in seen.iter().enumerate().skip(300).take(100) {
        assert_eq!(id, &format!("news/{n}"));
        assert!(!text.contains("Подписаться"), "{id}: {text:?}");
        assert!(text.contains(&story(n)), "{id}: {text:?}");
    }
    let (id, text) = &seen[400];
    assert_eq!(id, "other/400");
    assert!(
        text.contains(FOOTER),
        "another source's text is read whole: {text:?}"
    );
    // The posts themselves keep their footer.
    assert!(posts.iter().all(|p| p.text.ends_with(FOOTER)));
}
