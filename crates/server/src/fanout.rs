//! Live events across replicas (`pharos serve --bus nats://…`).
//!
//! What this replica's analysis and live incidents raise is handed to
//! [`pharos_bus::fanout::FanOut`]: its own SSE clients get it at once, and
//! the other replicas through the bus; what they raise, and the alerts of
//! the workers' pipeline leader, come back the same way. Each event
//! reaches a replica's clients once (the fan-out de-duplicates: every
//! replica analyses the same shared store, so the same alert is raised by
//! each). Without a connection to the bus, events stay on this replica.

use crate::analyst::LiveEvent;
use pharos_bus::BusUrl;
use pharos_bus::fanout::FanOut;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The kinds of live event (`LiveEvent::kind`).
fn kind(k: &str) -> Option<&'static str> {
    match k {
        "alert" => Some("alert"),
        "incident" => Some("incident"),
        _ => None,
    }
}

/// Starts the fan-out to `url` (on the current tokio runtime); returns the
/// sender the analysis raises events into. `clients` is what SSE reads.
pub fn start(
    url: &str,
    clients: broadcast::Sender<LiveEvent>,
) -> anyhow::Result<broadcast::Sender<LiveEvent>> {
    let url = BusUrl::parse(url)?;
    let (raised, mut rx) = broadcast::channel::<LiveEvent>(1024);
    tokio::spawn(async move {
        let out = clients.clone();
        let deliver: Arc<pharos_bus::fanout::Deliver> = Arc::new(move |k, data| {
            if let Some(kind) = kind(k) {
                let _ = out.send(LiveEvent { kind, data });
            }
        });
        let fan = match FanOut::start(&url, deliver).await {
            Ok(f) => {
                tracing::info!("bus {url}: live events shared with the other replicas");
                Some(f)
            }
            Err(e) => {
                tracing::error!("{e}; live events stay on this replica");
                None
            }
        };
        loop {
            match rx.recv().await {
                Ok(ev) => match &fan {
                    Some(f) => f.publish(ev.kind, ev.data),
                    None => {
                        let _ = clients.send(ev);
                    }
                },
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("bus {url}: {n} live events dropped (too many at once)");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    Ok(raised)
}
