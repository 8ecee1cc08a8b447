//! Reader-facing content written in more than one language: which texts an item
//! has, the rules each follows, and which texts stand or fall together (a topic's
//! title and description come from one language, never half from each).
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use super::{Locale, TextError, TopicText};

/// What a text belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentKind {
    Tier,
    Topic,
    Round,
    /// The newsroom itself (its pitch on the landing page; item id [`PITCH_ID`]).
    Newsroom,
}

text_enum!(ContentKind { Tier => "tier", Topic => "topic", Round => "round", Newsroom => "newsroom" });

impl fmt::Display for ContentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The item id of the newsroom's pitch.
pub const PITCH_ID: &str = "pitch";

/// One text of an item and the rules it follows (those of the form it came from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentField {
    pub name: &'static str,
    /// For staff forms.
    pub label: &'static str,
    pub max: usize,
    /// In the default language the text must be there; in another language it must
    /// be there as soon as any text of its group is.
    pub required: bool,
    pub multiline: bool,
    /// Texts of one group are shown from one language together. The first field
    /// of a group leads it: a group is translated when its lead is.
    pub group: u8,
}

const fn field(
    name: &'static str,
    label: &'static str,
    max: usize,
    required: bool,
    multiline: bool,
    group: u8,
) -> ContentField {
    ContentField { name, label, max, required, multiline, group }
}

const TIER: [ContentField; 3] = [
    field("name", "Name", 60, true, false, 0),
    field("description", "Description", 500, false, true, 0),
    field("benefits", "Benefits (one per line)", 2000, false, true, 0),
];
const TOPIC: [ContentField; 3] = [
    field("title", "Title", TopicText::TITLE_MAX, true, false, 0),
    field("description", "Description", TopicText::DESCRIPTION_MAX, false, true, 0),
    field("public_note", "Public note", TopicText::NOTE_MAX, false, true, 1),
];
const ROUND: [ContentField; 2] = [
    field("title", "Title", TopicText::TITLE_MAX, true, false, 0),
    field("description", "Description", TopicText::DESCRIPTION_MAX, false, true, 0),
];
const NEWSROOM: [ContentField; 1] =
    [field("pitch", "The newsroom's pitch (under the landing page's title)", 500, false, true, 0)];

impl ContentKind {
    pub fn fields(self) -> &'static [ContentField] {
        match self {
            Self::Tier => &TIER,
            Self::Topic => &TOPIC,
            Self::Round => &ROUND,
            Self::Newsroom => &NEWSROOM,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static ContentField> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The lead of `group`: a group is translated when its lead is.
    pub fn lead(self, group: u8) -> Option<&'static ContentField> {
        self.fields().iter().find(|f| f.group == group)
    }

    /// Whether the item's own columns hold its default-language texts (the
    /// newsroom's pitch has none: all its languages are translations).
    pub fn has_columns(self) -> bool {
        !matches!(self, Self::Newsroom)
    }
}

/// The texts of one item in every language, validated: `(locale, field)` →
/// text; an empty text is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentTexts(pub HashMap<(Locale, &'static str), String>);

impl ContentTexts {
    pub fn get(&self, locale: Locale, field: &str) -> Option<&str> {
        self.0.iter().find(|((l, f), _)| *l == locale && *f == field).map(|(_, v)| v.as_str())
    }

    /// Parses what staff typed: `raw(field, locale)` for each field of `kind` and
    /// each language. Errors are `(form field name "{field}_{locale}", error)`.
    pub fn parse<'a>(
        kind: ContentKind,
        default: Locale,
        raw: impl Fn(&str, Locale) -> &'a str,
    ) -> Result<Self, Vec<(String, TextError)>> {
        let mut texts = HashMap::new();
        let mut errors = Vec::new();
        for locale in Locale::ALL {
            for f in kind.fields() {
                let required = f.required && locale == default && kind.has_columns();
                match TopicText::parse(raw(f.name, locale), f.max, required, f.multiline) {
                    Ok(Some(text)) => {
                        texts.insert((locale, f.name), text.into_string());
                    }
                    Ok(None) => {}
                    Err(e) => errors.push((form_name(f.name, locale), e)),
                }
            }
            // Another language: a group's lead is needed once any of its texts is there.
            for f in kind.fields().iter().filter(|f| f.required && locale != default) {
                let group_started =
                    kind.fields().iter().any(|g| g.group == f.group && texts.contains_key(&(locale, g.name)));
                let name = form_name(f.name, locale);
                if group_started && !texts.contains_key(&(locale, f.name)) && !errors.iter().any(|(n, _)| *n == name) {
                    errors.push((name, TextError::Empty));
                }
            }
        }
        if errors.is_empty() { Ok(Self(texts)) } else { Err(errors) }
    }
}

/// The form field of a text in a language: `title_en`, `title_uk`.
pub fn form_name(field: &str, locale: Locale) -> String {
    format!("{field}_{locale}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: ContentKind, pairs: &[(&str, &str)]) -> Result<ContentTexts, Vec<(String, TextError)>> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ContentTexts::parse(kind, Locale::En, |f, l| map.get(&form_name(f, l)).map(String::as_str).unwrap_or(""))
    }

    #[test]
    fn the_default_language_needs_its_title_and_other_languages_need_it_once_started() {
        assert!(parse(ContentKind::Topic, &[("title_en", "Rents")]).is_ok());
        let errors = parse(ContentKind::Topic, &[("description_en", "x")]).unwrap_err();
        assert_eq!(errors, vec![("title_en".to_string(), TextError::Empty)]);
        let errors = parse(ContentKind::Topic, &[("title_en", "Rents"), ("description_uk", "Опис")]).unwrap_err();
        assert_eq!(errors, vec![("title_uk".to_string(), TextError::Empty)]);
        // A public note alone is its own group.
        assert!(parse(ContentKind::Topic, &[("title_en", "Rents"), ("public_note_uk", "Нотатка")]).is_ok());
        assert!(parse(ContentKind::Newsroom, &[]).is_ok());
    }

    #[test]
    fn every_language_follows_the_same_rules() {
        let errors = parse(ContentKind::Tier, &[("name_en", "Friend"), ("name_uk", &"я".repeat(61))]).unwrap_err();
        assert_eq!(errors, vec![("name_uk".to_string(), TextError::TooLong { max: 60 })]);
        let errors = parse(ContentKind::Round, &[("title_en", "May"), ("title_uk", "Тра\u{200B}вень")]).unwrap_err();
        assert_eq!(errors, vec![("title_uk".to_string(), TextError::ControlCharacters)]);
        let ok = parse(ContentKind::Round, &[("title_en", " May "), ("title_uk", "Травень")]).expect("valid");
        assert_eq!(ok.get(Locale::En, "title"), Some("May"));
        assert_eq!(ok.get(Locale::Uk, "title"), Some("Травень"));
    }
}
