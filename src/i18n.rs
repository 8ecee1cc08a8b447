//! Translations in Project Fluent (`.ftl`) catalogues under `locales/<lang>/`,
//! embedded in the binary. English is complete; a key missing in another
//! language falls back to English (and the unit test below keeps Ukrainian complete).
use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::assets::LOCALES;
use crate::domain::Locale;

pub struct I18n {
    bundles: HashMap<Locale, FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I18n").finish_non_exhaustive()
    }
}

/// An argument for a message.
pub enum Arg<'a> {
    Str(&'a str),
    Num(f64),
}

impl I18n {
    pub fn load() -> anyhow::Result<Self> {
        let mut bundles = HashMap::new();
        for locale in Locale::ALL {
            let lang_id = locale.as_str().parse().map_err(|e| anyhow::anyhow!("language id {locale}: {e:?}"))?;
            let mut bundle = FluentBundle::new_concurrent(vec![lang_id]);
            // Isolation marks (U+2068/U+2069) around arguments would end up inside
            // URLs and email subjects.
            bundle.set_use_isolating(false);
            let prefix = format!("{}/", locale.as_str());
            for (name, source) in LOCALES.iter().filter(|(name, _)| name.starts_with(&prefix)) {
                let resource = FluentResource::try_new((*source).to_string())
                    .map_err(|(_, errors)| anyhow::anyhow!("locales/{name}: {errors:?}"))?;
                bundle.add_resource(resource).map_err(|errors| anyhow::anyhow!("locales/{name}: {errors:?}"))?;
            }
            bundles.insert(locale, bundle);
        }
        Ok(Self { bundles })
    }

    /// The message `key` in `locale`, else in English, else the key itself (so a
    /// missing translation is visible rather than an error page).
    pub fn t(&self, locale: Locale, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Str(s) => fluent_args.set(*name, FluentValue::from(*s)),
                Arg::Num(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        for candidate in [locale, Locale::En] {
            let Some(bundle) = self.bundles.get(&candidate) else { continue };
            let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else { continue };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
            if !errors.is_empty() {
                tracing::warn!(i18n.key = key, i18n.locale = %candidate, ?errors, "translation formatting problem");
            }
            return text.into_owned();
        }
        tracing::warn!(i18n.key = key, "missing translation");
        key.to_string()
    }

    #[cfg(test)]
    fn keys(&self, locale: Locale) -> Vec<String> {
        let prefix = format!("{}/", locale.as_str());
        let mut keys = Vec::new();
        for (_, source) in LOCALES.iter().filter(|(name, _)| name.starts_with(&prefix)) {
            let resource = FluentResource::try_new((*source).to_string()).expect("catalogue parses");
            for entry in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = entry {
                    keys.push(m.id.name.to_string());
                }
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_english_message_is_translated_to_ukrainian() {
        let i18n = I18n::load().expect("catalogues load");
        let uk: std::collections::HashSet<String> = i18n.keys(Locale::Uk).into_iter().collect();
        let missing: Vec<String> = i18n.keys(Locale::En).into_iter().filter(|k| !uk.contains(k)).collect();
        assert!(missing.is_empty(), "missing in uk: {missing:?}");
    }

    #[test]
    fn messages_take_arguments_and_fall_back_to_english() {
        let i18n = I18n::load().expect("catalogues load");
        let text = i18n.t(Locale::Uk, "email-sign-in-subject", &[("newsroom", Arg::Str("Вісник"))]);
        assert!(text.contains("Вісник"), "{text}");
        assert_eq!(i18n.t(Locale::Uk, "no-such-key", &[]), "no-such-key");
    }
}
