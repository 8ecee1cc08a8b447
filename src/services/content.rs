//! Reader-facing content in each language: staff write every text of a tier,
//! topic, round and the newsroom's pitch per language; readers get their
//! language, or the newsroom's default language for an item (a group of texts,
//! see [`ContentField::group`]) not translated into theirs — never half of one
//! and half of the other.
//!
//! Storage: the items' own columns hold the default language (NEWSROOM_LANGUAGE),
//! so every query that reads them is unchanged; `translations` holds the others.
//! Pages read translations from a short-lived per-language copy, forgotten when
//! an edit through this instance commits ([`Change::Texts`]).
use std::collections::HashMap;
use std::sync::Arc;

use super::audit::{self, Actor};
use super::{Context, StorageError};
use crate::db::{self, Change, DbError};
use crate::domain::content::PITCH_ID;
use crate::domain::{BallotEntry, ContentField, ContentKind, ContentTexts, Locale, Round, Tier, Topic};

/// One item's stored translations, as read for mail: (kind, item id, [(locale, field, text)]).
pub type ItemTexts = (ContentKind, String, Vec<(String, String, String)>);

/// The texts of one language: (kind, item id) → field → text.
pub type TranslationMap = HashMap<(ContentKind, String), HashMap<String, String>>;

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("no such item")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

async fn translations(ctx: &Context, locale: Locale) -> Result<Arc<TranslationMap>, StorageError> {
    Ok(ctx
        .caches
        .translations
        .get_or_load(&ctx.clock, locale, || async {
            let mut map = TranslationMap::new();
            for (kind, id, field, body) in db::translations::list_for_locale(ctx.db.read(), locale).await? {
                let Ok(kind) = kind.parse::<ContentKind>() else { continue };
                map.entry((kind, id)).or_default().insert(field, body);
            }
            Ok::<_, DbError>(Arc::new(map))
        })
        .await?)
}

/// Puts content into one reader's language.
#[derive(Clone, Debug)]
pub struct Localiser {
    /// None when the reader's language is the default: the columns are right.
    texts: Option<Arc<TranslationMap>>,
}

/// The localiser for a reader of `locale`.
pub async fn localiser(ctx: &Context, locale: Locale) -> Result<Localiser, StorageError> {
    if locale == ctx.newsroom_language {
        return Ok(Localiser { texts: None });
    }
    Ok(Localiser { texts: Some(translations(ctx, locale).await?) })
}

impl Localiser {
    /// A localiser for `locale` that knows the texts of the items given as
    /// `(kind, item id, [(locale, field, text)])` (read inside a transaction, for mail).
    pub fn of_items(ctx: &Context, locale: Locale, items: &[ItemTexts]) -> Self {
        if locale == ctx.newsroom_language {
            return Self { texts: None };
        }
        let mut map = TranslationMap::new();
        for (kind, id, rows) in items {
            for (l, field, body) in rows {
                if l == locale.as_str() {
                    map.entry((*kind, id.clone())).or_default().insert(field.clone(), body.clone());
                }
            }
        }
        Self { texts: Some(Arc::new(map)) }
    }

    /// The texts of `group` of an item, when its lead is translated.
    fn group(&self, kind: ContentKind, id: &str, group: u8) -> Option<Vec<(&'static ContentField, Option<&str>)>> {
        let texts = self.texts.as_ref()?.get(&(kind, id.to_string()))?;
        let lead = kind.lead(group)?;
        texts.get(lead.name)?;
        Some(
            kind.fields()
                .iter()
                .filter(|f| f.group == group)
                .map(|f| (f, texts.get(f.name).map(String::as_str)))
                .collect(),
        )
    }

    /// Applies each translated text of `kind`'s items group by group through `set`.
    fn apply(&self, kind: ContentKind, id: &str, mut set: impl FnMut(&str, String)) {
        let groups: Vec<u8> = {
            let mut g: Vec<u8> = kind.fields().iter().map(|f| f.group).collect();
            g.dedup();
            g
        };
        for group in groups {
            if let Some(fields) = self.group(kind, id, group) {
                for (f, text) in fields {
                    set(f.name, text.unwrap_or("").to_string());
                }
            }
        }
    }

    pub fn tier(&self, t: &mut Tier) {
        self.apply(ContentKind::Tier, &t.id.to_string(), |field, text| match field {
            "name" => t.name = text,
            "description" => t.description = text,
            "benefits" => {
                t.benefits = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
            }
            _ => {}
        });
    }

    pub fn topic(&self, t: &mut Topic) {
        self.apply(ContentKind::Topic, &t.id.to_string(), |field, text| match field {
            "title" => t.title = text,
            "description" => t.description = text,
            "public_note" => t.public_note = Some(text).filter(|n| !n.is_empty()),
            _ => {}
        });
    }

    /// A topic's title (and description) given by id, as on ballots and lists.
    pub fn topic_texts(&self, id: &str, title: &mut String, description: Option<&mut String>) {
        let mut description = description;
        self.apply(ContentKind::Topic, id, |field, text| match field {
            "title" => *title = text,
            "description" => {
                if let Some(d) = description.as_deref_mut() {
                    *d = text;
                }
            }
            _ => {}
        });
    }

    /// A topic's public note given by id.
    pub fn topic_note(&self, id: &str, note: &mut Option<String>) {
        self.apply(ContentKind::Topic, id, |field, text| {
            if field == "public_note" {
                *note = Some(text).filter(|n| !n.is_empty());
            }
        });
    }

    pub fn ballot_entry(&self, e: &mut BallotEntry) {
        let id = e.topic_id.clone();
        self.topic_texts(&id, &mut e.title, Some(&mut e.description));
    }

    pub fn round(&self, r: &mut Round) {
        self.apply(ContentKind::Round, &r.id.to_string(), |field, text| match field {
            "title" => r.title = text,
            "description" => r.description = text,
            _ => {}
        });
    }

    /// A round as a page shows it: its texts and its ballot's.
    pub fn standing(&self, s: &mut super::voting::pages::RoundStanding) {
        self.round(&mut s.round);
        for e in &mut s.entries {
            self.ballot_entry(&mut e.entry);
        }
    }

    /// A round's title given by id.
    pub fn round_title(&self, id: &str, title: &mut String) {
        self.apply(ContentKind::Round, id, |field, text| {
            if field == "title" {
                *title = text;
            }
        });
    }
}

/// The newsroom's pitch in `locale`, else in the default language; None when
/// staff wrote none (pages then show the built-in one).
pub async fn pitch(ctx: &Context, locale: Locale) -> Result<Option<String>, StorageError> {
    let key = (ContentKind::Newsroom, PITCH_ID.to_string());
    for l in [locale, ctx.newsroom_language] {
        if let Some(text) = translations(ctx, l).await?.get(&key).and_then(|t| t.get("pitch")) {
            return Ok(Some(text.clone()));
        }
    }
    Ok(None)
}

/// An item's texts in every language, for its staff form, and what to call it.
pub async fn for_staff(ctx: &Context, kind: ContentKind, id: &str) -> Result<(String, ContentTexts), ContentError> {
    let pool = ctx.db.read();
    let mut texts = ContentTexts::default();
    let default = ctx.newsroom_language;
    let mut put = |field: &'static str, text: String| {
        if !text.is_empty() {
            texts.0.insert((default, field), text);
        }
    };
    let label = match kind {
        ContentKind::Tier => {
            let t = db::tiers::find(pool, id.parse().map_err(|_| ContentError::NotFound)?)
                .await?
                .ok_or(ContentError::NotFound)?;
            put("name", t.name.clone());
            put("description", t.description);
            put("benefits", t.benefits.join("\n"));
            format!("Tier “{}”", t.name)
        }
        ContentKind::Topic => {
            let t = db::topics::find(pool, id.parse().map_err(|_| ContentError::NotFound)?)
                .await?
                .ok_or(ContentError::NotFound)?;
            put("title", t.title.clone());
            put("description", t.description);
            put("public_note", t.public_note.unwrap_or_default());
            format!("Topic “{}”", t.title)
        }
        ContentKind::Round => {
            let r = db::rounds::find(pool, id.parse().map_err(|_| ContentError::NotFound)?)
                .await?
                .ok_or(ContentError::NotFound)?;
            put("title", r.title.clone());
            put("description", r.description);
            format!("Round “{}”", r.title)
        }
        ContentKind::Newsroom if id == PITCH_ID => "The newsroom's pitch".to_string(),
        ContentKind::Newsroom => return Err(ContentError::NotFound),
    };
    for (locale, field, body) in db::translations::list_for_item(pool, kind, id).await? {
        let (Ok(locale), Some(f)) = (locale.parse::<Locale>(), kind.field(&field)) else { continue };
        if locale != default || !kind.has_columns() {
            texts.0.insert((locale, f.name), body);
        }
    }
    Ok((label, texts))
}

/// Stores an item's texts in every language: the default language into its
/// columns, the others as translations (an empty text removes one), audited.
pub async fn save(
    ctx: &Context,
    actor: &Actor,
    kind: ContentKind,
    id: &str,
    texts: &ContentTexts,
) -> Result<(), ContentError> {
    let now = ctx.clock.now();
    let default = ctx.newsroom_language;
    let mut tx = ctx.db.transaction().await?;
    if kind == ContentKind::Newsroom && id != PITCH_ID {
        return Err(ContentError::NotFound);
    }
    for locale in Locale::ALL {
        for f in kind.fields() {
            let text = texts.get(locale, f.name);
            if locale == default && kind.has_columns() {
                if !db::translations::set_column(&mut *tx, kind, id, f.name, text, now).await? {
                    return Err(ContentError::NotFound);
                }
                // A translation left over from another default language must not shadow the columns.
                db::translations::put(&mut *tx, kind, id, locale, f.name, None, now).await?;
            } else {
                db::translations::put(&mut *tx, kind, id, locale, f.name, text, now).await?;
            }
        }
    }
    let mut detail: Vec<String> = Vec::new();
    for locale in Locale::ALL {
        let fields: Vec<&str> =
            kind.fields().iter().filter(|f| texts.get(locale, f.name).is_some()).map(|f| f.name).collect();
        detail.push(format!("{locale}: {}", if fields.is_empty() { "-".to_string() } else { fields.join(", ") }));
    }
    audit::record(ctx, &mut tx, actor, "content.texts", Some(format!("{kind} {id}")), Some(detail.join("; "))).await?;
    tx.changed(Change::Texts);
    match kind {
        ContentKind::Tier => tx.changed(Change::Catalog),
        ContentKind::Topic | ContentKind::Round => tx.changed(Change::Board),
        ContentKind::Newsroom => {}
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}
