//! Campaign material per language: the copy-paste message, the flood
//! hashtag, the planted false claim and its paraphrases, the throw-away
//! domains of the link network, and older debunked claims that recur in
//! organic chatter.
//!
//! The claims are invented for the simulation; they imitate the shape of
//! real debunked stories (secret rationing, bans, new taxes) without
//! repeating any real one.

/// An older debunked claim that people keep repeating.
pub struct DebunkedClaim {
    pub text: &'static str,
    /// Who spread it first (a page or channel name).
    pub author: &'static str,
    /// Days before the scenario start that the fact-check was published.
    pub days_before: u32,
}

pub struct CampaignContent {
    pub code: &'static str,
    /// Copy-paste message (about 30 words, so small edits keep it recognisable).
    pub copy_paste: &'static str,
    /// Hashtags copy-pasters add.
    pub copy_paste_tags: &'static [&'static str],
    /// New hashtag a flood pushes.
    pub flood_tag: &'static str,
    pub flood_slogans: &'static [&'static str],
    /// The planted false claim (as the fact-check words it).
    pub claim: &'static str,
    /// How campaign accounts word it.
    pub claim_variants: &'static [&'static str],
    pub narrative_tag: &'static str,
    /// Link network and narrative "news" sites (invented domains).
    pub fake_domains: &'static [&'static str],
    /// Name of the channel that starts the false narrative.
    pub origin_channel: &'static str,
    pub debunked: &'static [DebunkedClaim],
    /// Fact-checking organisation writing in this language (invented; `.example` domain).
    pub checker: (&'static str, &'static str),
}

pub const CONTENT: [CampaignContent; 6] = [
    CampaignContent {
        code: "en",
        copy_paste: "They will not tell you this on the news. Energy bills are going up again in April because the government chose foreign wars over its own people. Share this before it gets deleted.",
        copy_paste_tags: &["EnergyBills", "CostOfLiving", "WakeUp"],
        flood_tag: "BritainCantPay",
        flood_slogans: &[
            "Enough is enough.",
            "We are not paying for their mistakes.",
            "Join us this Saturday.",
            "Bills up, wages down.",
        ],
        claim: "The EU will ration household electricity to four hours a day from next month",
        claim_variants: &[
            "The EU will ration household electricity to four hours a day from next month.",
            "Leaked memo: Brussels plans to limit home electricity to just four hours a day starting next month.",
            "From next month the EU is cutting household power to four hours per day. They kept it quiet.",
            "Household electricity rationed to 4 hours a day from next month, says leaked EU plan.",
        ],
        narrative_tag: "PowerRationing",
        fake_domains: &[
            "the-uk-sentinel.com",
            "freedom-daily-report.net",
            "realnews-now24.com",
        ],
        origin_channel: "Truth Unfiltered",
        debunked: &[
            DebunkedClaim {
                text: "Drinking hot water with lemon every hour cures the flu in a day",
                author: "Natural Health Tips",
                days_before: 210,
            },
            DebunkedClaim {
                text: "Smart meters let energy companies switch off your fridge remotely to save power",
                author: "UK Freedom Watch",
                days_before: 95,
            },
        ],
        checker: ("ClaimCheck UK", "claimcheck-uk.example"),
    },
    CampaignContent {
        code: "ru",
        copy_paste: "Об этом не скажут по телевизору. С апреля тарифы на свет снова поднимут, потому что власти тратят деньги на чужие войны, а не на своих людей. Распространите, пока не удалили.",
        copy_paste_tags: &["тарифы", "ЖКХ", "правда"],
        flood_tag: "ХватитВрать",
        flood_slogans: &[
            "Сколько можно терпеть.",
            "Мы всё видим.",
            "Хватит врать людям.",
            "Поддержите, распространите.",
        ],
        claim: "Евросоюз с будущего месяца ограничит подачу электричества в дома до четырёх часов в сутки",
        claim_variants: &[
            "Евросоюз с будущего месяца ограничит подачу электричества в дома до четырёх часов в сутки.",
            "Утёк документ: в Брюсселе решили давать свет в дома только четыре часа в день.",
            "С будущего месяца в Европе свет будут включать на четыре часа в сутки. Об этом молчат.",
        ],
        narrative_tag: "веерныеотключения",
        fake_domains: &[
            "pravda-bez-cenzury.info",
            "novosti-segodnya24.ru",
            "russkiy-vzglyad.net",
        ],
        origin_channel: "Вся правда",
        debunked: &[
            DebunkedClaim {
                text: "В Европе с 2026 года запретят продавать мясо в магазинах",
                author: "Европа сегодня",
                days_before: 160,
            },
            DebunkedClaim {
                text: "Новые счётчики воды передают разговоры жильцов в управляющую компанию",
                author: "Народный контроль",
                days_before: 70,
            },
        ],
        checker: ("Проверка фактов", "proverka-faktov.example"),
    },
    CampaignContent {
        code: "uk",
        copy_paste: "Про це не скажуть у телемарафоні. З квітня тарифи на світло знову піднімуть, бо влада витрачає гроші на себе, а не на людей. Поширте, поки не видалили.",
        copy_paste_tags: &["тарифи", "світло", "правда"],
        flood_tag: "ДосиБрехні",
        flood_slogans: &[
            "Скільки можна терпіти.",
            "Ми все бачимо.",
            "Годі брехати людям.",
            "Поширюйте.",
        ],
        claim: "Євросоюз з наступного місяця обмежить постачання електроенергії в оселі до чотирьох годин на добу",
        claim_variants: &[
            "Євросоюз з наступного місяця обмежить постачання електроенергії в оселі до чотирьох годин на добу.",
            "Злили документ: у Брюсселі вирішили давати світло в будинки лише чотири години на день.",
            "З наступного місяця в Європі світло вмикатимуть на чотири години на добу. Про це мовчать.",
        ],
        narrative_tag: "обмеженнясвітла",
        fake_domains: &["pravda-ua-news.info", "novyny-dnya24.com", "ukr-vybir.net"],
        origin_channel: "Таємна Україна",
        debunked: &[
            DebunkedClaim {
                text: "Пенсії в Україні скасують з наступного року",
                author: "Народні новини",
                days_before: 120,
            },
            DebunkedClaim {
                text: "За користування генератором у квартирі штрафуватимуть на 17 тисяч гривень",
                author: "Київ інсайд",
                days_before: 45,
            },
        ],
        checker: ("Факт-Варта", "fakt-varta.example"),
    },
    CampaignContent {
        code: "de",
        copy_paste: "Das wird euch in den Nachrichten niemand sagen. Die Strompreise steigen im April schon wieder, weil die Regierung lieber fremde Kriege bezahlt als die eigenen Bürger. Teilt das, bevor es gelöscht wird.",
        copy_paste_tags: &["Strompreise", "Energiekrise", "Aufwachen"],
        flood_tag: "WirZahlenNichtMehr",
        flood_slogans: &[
            "Es reicht.",
            "Wir zahlen nicht für eure Fehler.",
            "Samstag alle auf die Straße.",
            "Preise hoch, Löhne runter.",
        ],
        claim: "Die EU wird den Haushaltsstrom ab nächstem Monat auf vier Stunden am Tag rationieren",
        claim_variants: &[
            "Die EU wird den Haushaltsstrom ab nächstem Monat auf vier Stunden am Tag rationieren.",
            "Geheimpapier aufgetaucht: Brüssel will Strom für Haushalte ab nächstem Monat auf vier Stunden täglich begrenzen.",
            "Ab nächstem Monat gibt es in der EU nur noch vier Stunden Strom pro Tag. Keiner berichtet darüber.",
        ],
        narrative_tag: "Stromrationierung",
        fake_domains: &[
            "deutschland-kurier24.net",
            "wahrheit-jetzt.info",
            "freie-nachrichten-de.com",
        ],
        origin_channel: "Unzensiert Deutschland",
        debunked: &[
            DebunkedClaim {
                text: "Die Regierung schafft das Bargeld zum 1. Juli komplett ab",
                author: "Bürgerstimme",
                days_before: 180,
            },
            DebunkedClaim {
                text: "Wer einen Kaminofen nutzt, muss ab Herbst 5000 Euro Strafe zahlen",
                author: "Landleben Aktuell",
                days_before: 60,
            },
        ],
        checker: ("Faktenprüfer", "faktenpruefer.example"),
    },
    CampaignContent {
        code: "fr",
        copy_paste: "On ne vous le dira pas au journal télévisé. Les factures d'électricité vont encore augmenter en avril parce que le gouvernement préfère payer les guerres des autres que son propre peuple. Partagez avant la suppression.",
        copy_paste_tags: &["électricité", "pouvoirdachat", "réveillezvous"],
        flood_tag: "OnNePaieraPas",
        flood_slogans: &[
            "Ça suffit.",
            "Nous ne paierons pas leurs erreurs.",
            "Tous dans la rue samedi.",
            "Les prix montent, les salaires non.",
        ],
        claim: "L'UE va rationner l'électricité des ménages à quatre heures par jour dès le mois prochain",
        claim_variants: &[
            "L'UE va rationner l'électricité des ménages à quatre heures par jour dès le mois prochain.",
            "Document fuité : Bruxelles prévoit de limiter le courant des foyers à quatre heures par jour.",
            "Dès le mois prochain, quatre heures d'électricité par jour seulement dans l'UE. Silence des médias.",
        ],
        narrative_tag: "rationnement",
        fake_domains: &[
            "info-souveraine24.com",
            "le-reveil-francais.net",
            "verite-actu.info",
        ],
        origin_channel: "Réinfo Direct",
        debunked: &[
            DebunkedClaim {
                text: "Le gouvernement va taxer les potagers des particuliers dès l'an prochain",
                author: "France Libre Infos",
                days_before: 140,
            },
            DebunkedClaim {
                text: "Les compteurs Linky enregistrent les conversations des foyers",
                author: "Citoyens Vigilants",
                days_before: 300,
            },
        ],
        checker: ("Vérif Express", "verif-express.example"),
    },
    CampaignContent {
        code: "pl",
        copy_paste: "Tego nie powiedzą wam w telewizji. Ceny prądu znowu pójdą w górę w kwietniu, bo rząd woli płacić za cudze wojny niż za własnych obywateli. Udostępnijcie, zanim to usuną.",
        copy_paste_tags: &["cenyprądu", "drożyzna", "obudźsię"],
        flood_tag: "PolskaNieZapłaci",
        flood_slogans: &[
            "Dość tego.",
            "Nie zapłacimy za ich błędy.",
            "Wszyscy na ulice w sobotę.",
            "Ceny w górę, pensje w dół.",
        ],
        claim: "UE od przyszłego miesiąca ograniczy dostawy prądu do domów do czterech godzin dziennie",
        claim_variants: &[
            "UE od przyszłego miesiąca ograniczy dostawy prądu do domów do czterech godzin dziennie.",
            "Wyciekł dokument: Bruksela chce dawać prąd do domów tylko przez cztery godziny dziennie.",
            "Od przyszłego miesiąca w UE prąd tylko cztery godziny na dobę. Media milczą.",
        ],
        narrative_tag: "reglamentacjaprądu",
        fake_domains: &[
            "prawda-polska24.pl",
            "niezalezne-info.net",
            "wolne-media-pl.com",
        ],
        origin_channel: "Polska Bez Cenzury",
        debunked: &[
            DebunkedClaim {
                text: "Od przyszłego miesiąca trzeba będzie płacić podatek od deszczówki z własnego dachu",
                author: "Głos Ludu",
                days_before: 200,
            },
            DebunkedClaim {
                text: "Nowe dowody osobiste mają czip śledzący lokalizację",
                author: "Wolni Polacy",
                days_before: 85,
            },
        ],
        checker: ("Sprawdzam Fakty", "sprawdzam-fakty.example"),
    },
];

/// Campaign material for a language code (falls back to English).
pub fn content(code: &str) -> &'static CampaignContent {
    CONTENT
        .iter()
        .find(|c| c.code == code)
        .unwrap_or(&CONTENT[0])
}
