//! The dashboard's prebunk pages: the simulator's planted recurrences in a
//! store, the server's live assessment forecasts them, `/prebunk` lists the
//! storylines likely to come back and links each brief (`/prebunk/{id}`,
//! with its drafts); partners are refused both and see no link to them.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_server::auth::{Role, create};
use pharos_server::{Config, router};
use pharos_sim::recurrence::{RecurrenceConfig, recurrence_scenario};
use pharos_store::{SqliteStore, Store};
use std::time::{Duration, Instant};
use tower::ServiceExt;

async fn page(st: &pharos_server::state::Shared, uri: &str, token: &str) -> (StatusCode, String) {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_and_shows_prebunk_briefs_to_the_team_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    // The history up to the cut-off: what the server knows "now".
    let sc = recurrence_scenario(&RecurrenceConfig::default());
    let posts = sc.history();
    let mut store = SqliteStore::open(&path).unwrap();
    store.insert(&posts).unwrap();
    let analyst = create(&store, Role::Analyst, None, "ann").unwrap().token;
    let partner = create(&store, Role::Partner, Some("acme"), "pat")
        .unwrap()
        .token;
    drop(store);
    // The calendar of the scenario's triggers, as a user writes one.
    let calendar = dir.path().join("events.csv");
    let lines: Vec<String> = sc
        .calendar
        .iter()
        .map(|c| format!("{},{}", c.date.day(), c.label))
        .collect();
    std::fs::write(&calendar, format!("# date,label\n{}\n", lines.join("\n"))).unwrap();
    let mut config = Config::default();
    config.incidents.every_s = 1;
    config.incidents.prebunk_calendar = Some(calendar);
    config.incidents.prebunk_horizon_days = f64::from(sc.config.days - sc.config.cutoff_days);
    let st = pharos_server::start(&path, config).unwrap();

    // Wait for the live assessment.
    let deadline = Instant::now() + Duration::from_secs(240);
    let list = loop {
        let (status, body) = page(&st, "/prebunk", &analyst).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body.contains("href=\"/prebunk/storyline-") {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "no prebunk brief after 240 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(list.contains("Likely to come back"));
    // Periodic storylines come back: each is listed with a chance.
    let periodic: Vec<_> = sc
        .storylines
        .iter()
        .filter(|t| t.kind == "periodic")
        .collect();
    let p = st.snapshot.read().unwrap().prebunk.clone();
    for t in &periodic {
        let f = p
            .forecasts
            .iter()
            .find(|f| f.terms.contains(&t.marker))
            .unwrap_or_else(|| panic!("no forecast for {}", t.marker));
        assert!(f.chance >= 0.5, "{f:?}");
        assert!(
            list.contains(&format!("/prebunk/{}", f.storyline)),
            "{} not linked",
            f.storyline
        );
    }
    // Triggered storylines are expected on their calendar date
    // (`[incidents] prebunk_calendar`).
    let triggered: Vec<_> = sc
        .storylines
        .iter()
        .filter(|t| t.kind == "triggered")
        .collect();
    assert!(!triggered.is_empty());
    for t in &triggered {
        let f = p
            .forecasts
            .iter()
            .find(|f| f.terms.contains(&t.marker))
            .unwrap_or_else(|| panic!("no forecast for {}", t.marker));
        assert_eq!(f.basis, pharos_assess::prebunk::Basis::Trigger, "{f:?}");
        assert_eq!(f.trigger, t.trigger, "{f:?}");
    }
    let id = &p.briefs[0].forecast.storyline;
    let (status, brief) = page(&st, &format!("/prebunk/{id}"), &analyst).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        brief.contains("Prebunk drafts") && brief.contains("Recycling: an old story"),
        "{brief}"
    );
    let (status, _) = page(&st, "/prebunk/storyline-000000000000", &analyst).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Partners: refused, and no link in their navigation.
    for uri in ["/prebunk".to_string(), format!("/prebunk/{id}")] {
        let (status, _) = page(&st, &uri, &partner).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
    }
    let (_, overview) = page(&st, "/incidents", &partner).await;
    assert!(!overview.contains("href=\"/prebunk\""));
    let (_, overview) = page(&st, "/incidents", &analyst).await;
    assert!(overview.contains("href=\"/prebunk\""));
}
