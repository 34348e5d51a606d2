//! Technique-based prebunk drafts: name the manipulation technique and show
//! how it works, rather than repeat the claim (the "inoculation" approach of
//! prebunking research). The draft names the story's topic by its terms,
//! never quotes its false claim, and points to the fact-checks.
//!
//! Templates exist for English, Russian, Ukrainian, Polish, German, French,
//! Spanish and Arabic (the languages of the cross-lingual test set); for any
//! other audience the draft is in English and its note says so. A draft is a
//! starting point for a person to edit, never published by Pharos.

use pharos_core::EventTime;
use serde::{Deserialize, Serialize};

/// The manipulation techniques a prebunk explains, each covering DISARM
/// techniques Pharos observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// Recycled debunked stories (T0084 Reuse Existing Content): what every
    /// returning storyline does.
    Recycling,
    /// Coordinated, automated or new accounts (T0049.005, T0092,
    /// T0049.003, T0146.007, T0150.001, T0116.001).
    FakeCrowd,
    /// Copy-paste, hashtag and volume floods (T0084.001, T0049, T0049.002).
    Flooding,
    /// Links pushed across platforms and to alternative channels
    /// (T0119.002, T0122).
    Laundering,
    /// AI-generated or altered images and video (T0086.002, T0087.001).
    SyntheticMedia,
}

impl Technique {
    /// The technique a Pharos signal (`coordinated-network`, ...) or DISARM
    /// id shows, when a prebunk explains it.
    pub fn of(signal: &str, t_id: &str) -> Option<Technique> {
        if t_id.starts_with("T0086") || t_id.starts_with("T0087") {
            return Some(Technique::SyntheticMedia);
        }
        Some(match signal {
            "recycled-debunked-claim" => Technique::Recycling,
            "coordinated-network" | "reshare-ring" | "inauthentic-accounts" | "reply-flood" => {
                Technique::FakeCrowd
            }
            "copy-paste-flood" | "hashtag-flood" | "burst" => Technique::Flooding,
            "link-laundering" => Technique::Laundering,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

struct Template {
    lang: &'static str,
    /// `{topic}`, `{when}`.
    intro: &'static str,
    /// `{date}`.
    when: &'static str,
    how: &'static str,
    /// In [`Technique`] order.
    techniques: [&'static str; 5],
    checked: &'static str,
    closing: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        lang: "en",
        intro: "Heads-up: posts about {topic} are likely to come back{when}.",
        when: " around {date}",
        how: "How the manipulation works:",
        techniques: [
            "Recycling: an old story that fact-checkers already found false is brought back, often around a date that matters, in the hope that the correction has been forgotten.",
            "Fake crowds: a group of accounts, some of them automated or newly created, post and share in step so that a message looks more popular than it is.",
            "Flooding: the same text or hashtag is posted in bulk within a short time, so that it fills feeds and search results and crowds out other voices.",
            "Source laundering: links to little-known sites and channels are pushed across platforms, so that the story seems to come from many independent sources.",
            "Synthetic images: pictures made or altered by AI are passed off as photographs of real events.",
        ],
        checked: "Fact-checkers have already examined this story:",
        closing: "Knowing the trick makes it easier to spot. Check before you share.",
    },
    Template {
        lang: "ru",
        intro: "Внимание: публикации на тему «{topic}», вероятно, вернутся{when}.",
        when: " примерно {date}",
        how: "Как работает манипуляция:",
        techniques: [
            "Повторное использование: старую историю, которую фактчекеры уже признали ложной, снова запускают, часто к значимой дате, в расчёте на то, что опровержение забыто.",
            "Фальшивая толпа: группа аккаунтов, часть из которых автоматические или недавно созданные, публикует и распространяет сообщения синхронно, чтобы они казались популярнее, чем есть на самом деле.",
            "Флуд: один и тот же текст или хештег массово публикуют за короткое время, чтобы заполнить ленты и результаты поиска и заглушить другие голоса.",
            "Отмывание источников: ссылки на малоизвестные сайты и каналы продвигают на разных платформах, чтобы казалось, что история исходит из многих независимых источников.",
            "Синтетические изображения: картинки, созданные или изменённые ИИ, выдают за фотографии реальных событий.",
        ],
        checked: "Фактчекеры уже проверяли эту историю:",
        closing: "Зная приём, его легче распознать. Проверяйте, прежде чем делиться.",
    },
    Template {
        lang: "uk",
        intro: "Увага: публікації на тему «{topic}», ймовірно, повернуться{when}.",
        when: " приблизно {date}",
        how: "Як працює маніпуляція:",
        techniques: [
            "Повторне використання: стару історію, яку фактчекери вже визнали неправдивою, знову запускають, часто до важливої дати, розраховуючи, що спростування забули.",
            "Фальшивий натовп: група акаунтів, частина з яких автоматичні або нещодавно створені, публікує й поширює повідомлення синхронно, щоб вони здавалися популярнішими, ніж є насправді.",
            "Флуд: той самий текст або хештег масово публікують за короткий час, щоб заповнити стрічки й результати пошуку та заглушити інші голоси.",
            "Відмивання джерел: посилання на маловідомі сайти й канали просувають на різних платформах, щоб здавалося, що історія походить із багатьох незалежних джерел.",
            "Синтетичні зображення: картинки, створені або змінені ШІ, видають за фотографії реальних подій.",
        ],
        checked: "Фактчекери вже перевіряли цю історію:",
        closing: "Знаючи прийом, його легше розпізнати. Перевіряйте, перш ніж поширювати.",
    },
    Template {
        lang: "pl",
        intro: "Uwaga: wpisy na temat „{topic}” prawdopodobnie wrócą{when}.",
        when: " około {date}",
        how: "Jak działa ta manipulacja:",
        techniques: [
            "Recykling: stara historia, którą weryfikatorzy faktów uznali już za fałszywą, wraca, często przy ważnej dacie, w nadziei, że sprostowanie zostało zapomniane.",
            "Fałszywy tłum: grupa kont, częściowo zautomatyzowanych lub świeżo założonych, publikuje i udostępnia treści jednocześnie, aby przekaz wydawał się popularniejszy, niż jest.",
            "Zalewanie: ten sam tekst lub hashtag jest masowo publikowany w krótkim czasie, aby wypełnić tablice i wyniki wyszukiwania i zagłuszyć inne głosy.",
            "Pranie źródeł: linki do mało znanych stron i kanałów są promowane na wielu platformach, aby historia wyglądała na pochodzącą z wielu niezależnych źródeł.",
            "Obrazy syntetyczne: zdjęcia wygenerowane lub zmienione przez AI są przedstawiane jako fotografie prawdziwych wydarzeń.",
        ],
        checked: "Weryfikatorzy faktów już sprawdzali tę historię:",
        closing: "Znając ten trik, łatwiej go rozpoznać. Sprawdź, zanim udostępnisz.",
    },
    Template {
        lang: "de",
        intro: "Hinweis: Beiträge zum Thema „{topic}“ kommen wahrscheinlich wieder{when}.",
        when: " um den {date}",
        how: "So funktioniert die Manipulation:",
        techniques: [
            "Recycling: Eine alte Geschichte, die Faktenprüfer bereits als falsch eingestuft haben, wird erneut verbreitet, oft rund um ein wichtiges Datum, in der Hoffnung, dass die Richtigstellung vergessen ist.",
            "Falsche Menge: Eine Gruppe von Konten, teils automatisiert oder neu angelegt, postet und teilt im Gleichschritt, damit eine Botschaft beliebter wirkt, als sie ist.",
            "Fluten: Derselbe Text oder Hashtag wird in kurzer Zeit massenhaft gepostet, damit er Feeds und Suchergebnisse füllt und andere Stimmen verdrängt.",
            "Quellenwäsche: Links zu wenig bekannten Seiten und Kanälen werden plattformübergreifend verbreitet, damit die Geschichte aus vielen unabhängigen Quellen zu stammen scheint.",
            "Synthetische Bilder: Von KI erzeugte oder veränderte Bilder werden als Fotos echter Ereignisse ausgegeben.",
        ],
        checked: "Faktenprüfer haben diese Geschichte bereits untersucht:",
        closing: "Wer den Trick kennt, erkennt ihn leichter. Erst prüfen, dann teilen.",
    },
    Template {
        lang: "fr",
        intro: "Attention : des publications sur le thème « {topic} » reviendront probablement{when}.",
        when: " vers le {date}",
        how: "Comment fonctionne la manipulation :",
        techniques: [
            "Recyclage : une vieille histoire que les vérificateurs ont déjà jugée fausse est relancée, souvent autour d'une date importante, en espérant que la correction a été oubliée.",
            "Fausse foule : un groupe de comptes, certains automatisés ou récemment créés, publient et partagent en même temps pour qu'un message paraisse plus populaire qu'il ne l'est.",
            "Inondation : le même texte ou le même hashtag est publié en masse en peu de temps, pour remplir les fils et les résultats de recherche et étouffer les autres voix.",
            "Blanchiment de sources : des liens vers des sites et des chaînes peu connus sont poussés sur plusieurs plateformes, pour que l'histoire semble venir de nombreuses sources indépendantes.",
            "Images synthétiques : des images créées ou modifiées par l'IA sont présentées comme des photos d'événements réels.",
        ],
        checked: "Des vérificateurs ont déjà examiné cette histoire :",
        closing: "Connaître la ficelle aide à la repérer. Vérifiez avant de partager.",
    },
    Template {
        lang: "es",
        intro: "Atención: es probable que vuelvan las publicaciones sobre «{topic}»{when}.",
        when: " hacia el {date}",
        how: "Cómo funciona la manipulación:",
        techniques: [
            "Reciclaje: una historia antigua que los verificadores ya calificaron de falsa vuelve a circular, a menudo en torno a una fecha importante, con la esperanza de que la corrección se haya olvidado.",
            "Multitud falsa: un grupo de cuentas, algunas automatizadas o recién creadas, publican y comparten a la vez para que un mensaje parezca más popular de lo que es.",
            "Inundación: el mismo texto o etiqueta se publica en masa en poco tiempo para llenar los muros y los resultados de búsqueda y ahogar otras voces.",
            "Blanqueo de fuentes: se difunden enlaces a sitios y canales poco conocidos en varias plataformas para que la historia parezca venir de muchas fuentes independientes.",
            "Imágenes sintéticas: imágenes creadas o alteradas por IA se presentan como fotografías de hechos reales.",
        ],
        checked: "Los verificadores ya examinaron esta historia:",
        closing: "Conocer el truco ayuda a detectarlo. Verifica antes de compartir.",
    },
    Template {
        lang: "ar",
        intro: "تنبيه: من المرجّح أن تعود المنشورات حول «{topic}»{when}.",
        when: " في حدود {date}",
        how: "كيف تعمل هذه الخدعة:",
        techniques: [
            "إعادة التدوير: قصة قديمة سبق أن أثبت مدققو الحقائق زيفها تُعاد من جديد، غالبًا قرب تاريخ مهم، على أمل أن يكون التصحيح قد نُسي.",
            "الحشد الزائف: مجموعة من الحسابات، بعضها آلي أو حديث الإنشاء، تنشر وتعيد النشر في توقيت واحد لتبدو الرسالة أكثر شعبية مما هي عليه.",
            "الإغراق: يُنشر النص نفسه أو الوسم نفسه بكثافة في وقت قصير ليملأ الصفحات ونتائج البحث ويحجب الأصوات الأخرى.",
            "غسل المصادر: تُروَّج روابط لمواقع وقنوات غير معروفة عبر منصات عدة، لتبدو القصة وكأنها صادرة عن مصادر مستقلة كثيرة.",
            "الصور الاصطناعية: صور أنشأها الذكاء الاصطناعي أو عدّلها تُقدَّم على أنها صور حقيقية لأحداث واقعية.",
        ],
        checked: "سبق أن فحص مدققو الحقائق هذه القصة:",
        closing: "معرفة الخدعة تسهّل كشفها. تحقّق قبل أن تشارك.",
    },
];

/// The languages prebunk drafts have templates for.
pub fn template_languages() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.lang).collect()
}

/// A prebunk draft for one audience.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrebunkDraft {
    /// The language it is written in.
    pub lang: String,
    /// The audience's language it was asked for.
    pub audience: String,
    pub text: String,
    /// What the editor should know (no template for the audience, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Drafts a prebunk for an audience speaking `audience` (ISO 639-1): the
/// topic (a few terms of the storyline, never its claim), when it is
/// expected, how each technique works (recycling first: a returning story
/// is recycled by definition), the fact-checks' addresses, a closing line.
pub fn draft(
    topic: &str,
    expected: Option<EventTime>,
    techniques: &[Technique],
    fact_checks: &[String],
    audience: &str,
) -> PrebunkDraft {
    let (t, note) = match TEMPLATES.iter().find(|t| t.lang == audience) {
        Some(t) => (t, None),
        None => (
            &TEMPLATES[0],
            Some(format!(
                "no prebunk template in {}: drafted in English; translate before use",
                pharos_claims::respond::draft::language_name(audience)
            )),
        ),
    };
    let when = expected
        .map(|d| t.when.replace("{date}", &d.day()))
        .unwrap_or_default();
    let mut text = t.intro.replace("{topic}", topic).replace("{when}", &when);
    text.push_str("\n\n");
    text.push_str(t.how);
    let mut list = vec![Technique::Recycling];
    for &x in techniques {
        if !list.contains(&x) {
            list.push(x);
        }
    }
    list.sort();
    for x in list {
        text.push_str("\n- ");
        text.push_str(t.techniques[x.index()]);
    }
    if !fact_checks.is_empty() {
        text.push_str("\n\n");
        text.push_str(t.checked);
        for u in fact_checks.iter().take(5) {
            text.push_str("\n- ");
            text.push_str(u);
        }
    }
    text.push_str("\n\n");
    text.push_str(t.closing);
    PrebunkDraft {
        lang: t.lang.to_string(),
        audience: audience.to_string(),
        text,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_explains_techniques_in_the_audience_language_without_the_claim() {
        let d = draft(
            "зерно · экспорт",
            Some(EventTime(1_735_689_600_000)),
            &[
                Technique::FakeCrowd,
                Technique::Flooding,
                Technique::FakeCrowd,
            ],
            &["https://factcheck.example/1".into()],
            "ru",
        );
        assert_eq!(d.lang, "ru");
        assert!(d.note.is_none());
        assert!(d.text.contains("«зерно · экспорт»"));
        assert!(d.text.contains("2025-01-01"));
        // Recycling, fake crowds, flooding: each once, in order.
        let i = |s: &str| d.text.find(s).unwrap();
        assert!(i("Повторное использование") < i("Фальшивая толпа"));
        assert!(i("Фальшивая толпа") < i("Флуд"));
        assert_eq!(d.text.matches("Фальшивая толпа").count(), 1);
        assert!(d.text.contains("https://factcheck.example/1"));
    }

    #[test]
    fn an_audience_without_template_gets_english_with_a_note() {
        let d = draft("grain", None, &[], &[], "ka");
        assert_eq!((d.lang.as_str(), d.audience.as_str()), ("en", "ka"));
        assert!(d.note.as_deref().unwrap().contains("translate"));
        assert!(
            d.text
                .starts_with("Heads-up: posts about grain are likely to come back.")
        );
    }

    #[test]
    fn every_template_has_every_part() {
        for l in ["en", "ru", "uk", "pl", "de", "fr", "es", "ar"] {
            let t = TEMPLATES.iter().find(|t| t.lang == l).unwrap();
            assert!(
                t.intro.contains("{topic}") && t.intro.contains("{when}"),
                "{l}"
            );
            assert!(t.when.contains("{date}"), "{l}");
            assert!(t.techniques.iter().all(|s| s.len() > 40), "{l}");
        }
        assert_eq!(
            Technique::of("link-laundering", "T0122"),
            Some(Technique::Laundering)
        );
        assert_eq!(
            Technique::of("x", "T0086.002"),
            Some(Technique::SyntheticMedia)
        );
        assert_eq!(Technique::of("x", "T0001"), None);
    }
}
