//! Boilerplate real sources carry, so that detectors meet it here first:
//!
//! - **channel signatures**: most Telegram channels sign every original post
//!   with a line of their own (`🔴 Подписаться на Город Z — @gorod_z12`), and a share of
//!   Facebook pages end with a sign-off (`Follow Daily Page for more`);
//! - **platform templates**: tweets that share a link sometimes credit a
//!   source (`… via @Reuters`); retweets already start `RT @x:`;
//! - **one network of channels sharing a template**: a few Russian-language
//!   Telegram channels that look independent sign every post with the same
//!   footer — one operator behind them (DISARM T0092 Build Network). Their
//!   accounts are listed in the ground truth (`template_networks`).
//!
//! Everything is decided by hashing the seed, the account and the post
//! counter: no draw from the event stream, so the rest of a scenario (who
//! posts when, about what) is the same with or without it.

use crate::actors::{Platform, Profile};
use crate::rng::{hash, pick_h, unit};
use pharos_core::EventTime;

/// The footer the template network shares.
pub const NETWORK_FOOTER: &str = "⚡️ Правда без цензуры — подписывайтесь на сеть «Свои»";
/// Channels in the network.
const NETWORK_SIZE: usize = 6;
/// Share of Telegram accounts that sign their posts.
const TELEGRAM_SIGNED: f64 = 0.6;
/// Share of Facebook pages with a sign-off.
const FACEBOOK_SIGNED: f64 = 0.5;
/// Share of link tweets that credit a source with `via @x`.
const VIA_SHARE: f64 = 0.15;

/// "Subscribe to {}" in each language of the lexicon (en, ru, uk, de, fr, pl).
const SUBSCRIBE: [&str; 6] = [
    "Subscribe to {}",
    "Подписаться на {}",
    "Підписатися на {}",
    "{} abonnieren",
    "Abonnez-vous à {}",
    "Subskrybuj {}",
];
/// A page's sign-off.
const FOLLOW: [&str; 6] = [
    "Follow {} for more news",
    "Больше новостей — {}",
    "Більше новин — {}",
    "Mehr Nachrichten bei {}",
    "Plus d'actualités sur {}",
    "Więcej wiadomości na {}",
];
const MARKS: [&str; 4] = ["🔴 ", "👉 ", "", "📢 "];
const VIA: [&str; 6] = ["Reuters", "AP", "AFP", "dpa", "PAP_MediaRoom", "ukrinform"];

/// The network: the first [`NETWORK_SIZE`] Russian-language Telegram
/// accounts from activity rank 5 on (active enough to post often).
#[derive(Clone, Debug, Default)]
pub(crate) struct TemplateNetwork {
    pub ranks: Vec<u32>,
    pub actors: Vec<String>,
    /// Ids of the posts signed with the footer so far.
    pub posts: Vec<String>,
}

impl TemplateNetwork {
    pub fn new(seed: u64, population: u32, start: EventTime) -> TemplateNetwork {
        let mut net = TemplateNetwork::default();
        for rank in 5..population.min(20_000) {
            let p = crate::actors::organic(seed, rank, population, start);
            if p.platform == Platform::Telegram && p.lang == 1 {
                net.ranks.push(rank);
                net.actors.push(p.actor.id);
                if net.ranks.len() == NETWORK_SIZE {
                    break;
                }
            }
        }
        net
    }
}

/// Appends the account's boilerplate to an original post's `text`
/// (`counter` numbers the post; `has_link` when it shares a link).
pub(crate) fn sign(
    text: &mut String,
    seed: u64,
    rank: u32,
    prof: &Profile,
    counter: u64,
    has_link: bool,
    network: &TemplateNetwork,
) {
    if network.ranks.contains(&rank) {
        text.push_str("\n\n");
        text.push_str(NETWORK_FOOTER);
        return;
    }
    let h = hash(seed, 0x5167, u64::from(rank));
    let name = prof.actor.name.as_deref().unwrap_or("");
    // Channels and pages (named after a channel of the lexicon), not people.
    let channels = crate::lexicon::LANGS[prof.lang].channels;
    let is_channel = channels.iter().any(|c| name.starts_with(c.0));
    match prof.platform {
        _ if !is_channel => {}
        Platform::Telegram if unit(h) < TELEGRAM_SIGNED => {
            text.push_str("\n\n");
            let mark: &&str = pick_h(h >> 7, &MARKS);
            text.push_str(mark);
            text.push_str(&SUBSCRIBE[prof.lang].replace("{}", name));
            if let Some(handle) = &prof.actor.handle {
                text.push_str(" — @");
                text.push_str(handle);
            }
        }
        Platform::Facebook if unit(h) < FACEBOOK_SIGNED => {
            text.push_str("\n\n");
            text.push_str(&FOLLOW[prof.lang].replace("{}", name));
            if let Some(handle) = &prof.actor.handle {
                text.push_str(" (@");
                text.push_str(handle);
                text.push(')');
            }
        }
        _ => {}
    }
    match prof.platform {
        Platform::Twitter if has_link && unit(hash(seed, 0x71a, counter)) < VIA_SHARE => {
            text.push_str(" via @");
            let via: &&str = pick_h(h >> 9, &VIA);
            text.push_str(via);
        }
        _ => {}
    }
}
