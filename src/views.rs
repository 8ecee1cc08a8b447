//! Rendering: Tera templates (embedded at build time) plus the `t()` translation
//! function, for pages and emails alike.
use std::sync::Arc;

use serde::Serialize;
use tera::{Context, Kwargs, State, Tera};

use crate::assets::TEMPLATES;
use crate::domain::Locale;
use crate::i18n::{Arg, I18n};

#[derive(Debug)]
pub struct Views {
    tera: Tera,
    i18n: Arc<I18n>,
}

/// A rendered email in one language.
#[derive(Debug, Clone)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Views {
    pub fn load(i18n: Arc<I18n>) -> anyhow::Result<Self> {
        let mut tera = Tera::new();
        let for_templates = i18n.clone();
        // Registered before templates are added: Tera 2 checks functions at load time.
        tera.register_function("t", move |kwargs: Kwargs, state: &State| -> tera::TeraResult<String> {
            let key: &str = kwargs.must_get("key")?;
            let lang: Option<String> = state.get("lang")?;
            let locale = lang.and_then(|l| l.parse().ok()).unwrap_or_default();
            let mut args: Vec<(String, String)> = Vec::new();
            for (name, value) in kwargs.iter() {
                let name = name.to_string();
                if name != "key" {
                    args.push((name, value.to_string()));
                }
            }
            let borrowed: Vec<(&str, Arg<'_>)> = args.iter().map(|(n, v)| (n.as_str(), arg_of(v))).collect();
            Ok(for_templates.t(locale, key, &borrowed))
        });
        let templates: Vec<(&str, &str)> = TEMPLATES.iter().map(|(n, s)| (*n, *s)).collect();
        tera.add_raw_templates(templates).map_err(|e| anyhow::anyhow!("templates: {e:?}"))?;
        Ok(Self { tera, i18n })
    }

    pub fn i18n(&self) -> &I18n {
        &self.i18n
    }

    pub fn render(&self, template: &str, context: &Context) -> anyhow::Result<String> {
        self.tera.render(template, context).map_err(|e| anyhow::anyhow!("rendering {template}: {e:?}"))
    }

    /// Renders `templates/emails/<name>.txt` and `.html` with the subject from the
    /// catalogue key `email-<name>-subject` (underscores in the name become dashes),
    /// or `subject` when the caller has its own (an update's, written by staff).
    pub fn render_email<C: Serialize>(
        &self,
        name: &str,
        locale: Locale,
        newsroom: &str,
        data: &C,
    ) -> anyhow::Result<RenderedEmail> {
        self.render_email_with_subject(name, locale, newsroom, data, None)
    }

    /// [`Views::render_email`] with the caller's own subject, if any.
    pub fn render_email_with_subject<C: Serialize>(
        &self,
        name: &str,
        locale: Locale,
        newsroom: &str,
        data: &C,
        subject: Option<String>,
    ) -> anyhow::Result<RenderedEmail> {
        let mut context = Context::from_serialize(data).map_err(|e| anyhow::anyhow!("email context: {e:?}"))?;
        context.insert("lang", locale.as_str());
        context.insert("newsroom", newsroom);
        let subject = subject.unwrap_or_else(|| {
            self.i18n.t(
                locale,
                &format!("email-{}-subject", name.replace('_', "-")),
                &[("newsroom", Arg::Str(newsroom))],
            )
        });
        Ok(RenderedEmail {
            subject,
            text: self.render(&format!("emails/{name}.txt"), &context)?,
            html: self.render(&format!("emails/{name}.html"), &context)?,
        })
    }
}

fn arg_of(value: &str) -> Arg<'_> {
    // Numbers are passed as numbers so Fluent can pick plural forms.
    match value.parse::<f64>() {
        Ok(n) => Arg::Num(n),
        Err(_) => Arg::Str(value),
    }
}
