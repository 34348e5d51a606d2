//! RSS 2.0 and Atom importer.

use pharos_core::{EventTime, MediaKind, Post};
use pharos_ingest::{IngestError, Item, Options, Rejection};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rss")
        .join(name)
}

fn read(path: &Path, opts: &Options) -> Result<(Vec<Post>, Vec<Rejection>), IngestError> {
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    pharos_ingest::read_path(path, opts, &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })?;
    Ok((posts, rejected))
}

#[test]
fn rss2_items_with_html_enclosures_and_an_undated_item() {
    let path = fixture("rss2.xml");
    let (posts, rejected) = read(&path, &Options::new()).unwrap();
    assert_eq!(posts.len(), 2);

    let p = &posts[0];
    assert_eq!(p.platform, "rss");
    assert_eq!(p.id, "dt-2022-0001", "the guid");
    // Paragraphs stay paragraphs; the script is gone.
    assert_eq!(
        p.actor.id, "https://dailytruth.example/feed.xml",
        "the feed's self link"
    );
    assert_eq!(p.actor.name.as_deref(), Some("Daily Truth News"));
    assert_eq!(p.actor.handle.as_deref(), Some("Daily Truth News"));
    assert_eq!(p.time, EventTime::parse("2022-03-09T12:00:00Z").unwrap());
    assert_eq!(
        p.text,
        "Secret biolabs found & confirmed\n\n\
         Officials refuse to comment on the labs — read the document.\n\n\
         More at https://mirror.example/labs. #Biolabs"
    );
    assert_eq!(p.lang.as_deref(), Some("en"), "from the channel's en-us");
    let urls: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://dailytruth.example/2022/03/biolabs",
            "https://mirror.example/labs"
        ],
        "entry link normalised (utm dropped), URL from the text"
    );
    assert_eq!(p.domains, ["dailytruth.example", "mirror.example"]);
    assert_eq!(p.hashtags, ["biolabs"]);
    let media: Vec<(&str, MediaKind)> = p.media.iter().map(|m| (m.url.as_str(), m.kind)).collect();
    assert_eq!(
        media,
        [("https://dailytruth.example/img/lab.jpg", MediaKind::Photo)],
        "the enclosure"
    );
    assert_eq!(p.provenance.source, path.display().to_string());
    assert_eq!(p.provenance.record, Some(1));

    let p = &posts[1];
    assert_eq!(
        p.id, "https://dailytruth.example/2022/03/second",
        "no guid: the link"
    );
    assert_eq!(
        p.actor.id, "editor@dailytruth.example",
        "the entry's author"
    );
    assert_eq!(p.actor.name.as_deref(), Some("Jane Editor"));
    assert_eq!(
        p.time,
        EventTime(1_646_897_415_000),
        "+0100 applied: 07:30:15Z"
    );
    assert_eq!(p.text, "Second report\n\nPlain text <not a tag> here");
    assert_eq!(p.provenance.record, Some(2));
    assert_eq!(p.media.len(), 1);
    assert_eq!(
        p.media[0].url, "https://dailytruth.example/video/lab.mp4",
        "media:content"
    );
    assert_eq!(p.media[0].kind, MediaKind::Video);

    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].record, Some(3));
    assert_eq!(
        rejected[0].reason,
        "entry has neither a published nor an updated date"
    );
    assert!(rejected[0].raw.contains("Undated item"));
}

#[test]
fn atom_entries() {
    let mut opts = Options::new();
    opts.platform = Some("news".into());
    let (posts, rejected) = read(&fixture("atom.xml"), &opts).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 2);

    let p = &posts[0];
    assert_eq!(p.platform, "news");
    assert_eq!(p.id, "tag:vesti.example,2022:1");
    assert_eq!(p.actor.id, "https://vesti.example/authors/petrov");
    assert_eq!(p.actor.name.as_deref(), Some("Иван Петров"));
    assert_eq!(
        p.time,
        EventTime::parse("2022-03-09T12:00:00.250Z").unwrap(),
        "published, to the millisecond"
    );
    assert_eq!(
        p.text,
        "Заявление министерства\n\nМинистерство опровергло сообщения «СМИ»."
    );
    assert_eq!(p.lang.as_deref(), Some("ru"));
    assert_eq!(p.links.len(), 1);
    assert_eq!(p.links[0].url, "https://vesti.example/news/1");
    assert_eq!(p.media.len(), 1);
    assert_eq!(p.media[0].url, "https://vesti.example/audio/1.mp3");
    assert_eq!(p.media[0].kind, MediaKind::Audio);

    let p = &posts[1];
    assert_eq!(
        p.actor.id, "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6",
        "the feed's id"
    );
    assert_eq!(p.actor.name.as_deref(), Some("Вести Мира"));
    assert_eq!(
        p.time,
        EventTime::parse("2022-03-10T09:00:00Z").unwrap(),
        "updated when not published"
    );
    assert_eq!(
        p.text, "Обновление\n\nТекст обновления\nвторая строка",
        "content when no summary"
    );
    assert_eq!(p.provenance.record, Some(2));
}

#[test]
fn a_document_that_is_not_a_feed_is_one_rejection() {
    let path = fixture("not_a_feed.xml");
    let (posts, rejected) = read(&path, &Options::new()).unwrap();
    assert!(posts.is_empty());
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].file, path.display().to_string());
    assert!(
        rejected[0].reason.starts_with("not an RSS or Atom feed"),
        "{}",
        rejected[0].reason
    );
}
