//! Where a reader came from when they joined, became a patron or gave: the
//! article they read (only on the newsroom's own origins), the host that sent
//! them (never a full referring URL), and the `utm_source` / `utm_medium` /
//! `utm_campaign` the link carried. Everything here arrives from outside (a
//! query, a form, a cookie, Stripe metadata) and is parsed by
//! [`Source::from_raw`]: a value that cannot be stored safely is dropped or cut,
//! never kept raw, and a bad value never stops a checkout.
use serde::{Deserialize, Serialize};

/// The longest article URL kept (Stripe metadata values hold 500 characters);
/// a longer one is dropped, not cut (a cut URL points somewhere else).
pub const MAX_ARTICLE_CHARS: usize = 500;
/// UTM values are cut to this many characters.
pub const MAX_UTM_CHARS: usize = 80;
/// A host name is at most 253 characters (RFC 1035).
const MAX_HOST_CHARS: usize = 253;
/// Inputs longer than this are not even parsed.
const MAX_INPUT_CHARS: usize = 2048;

/// The five values as they arrived, unchecked. Field names are the ones the
/// query string, the embeddable forms and the Stripe metadata use.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RawSource {
    /// The article's URL (`article`).
    pub article: String,
    /// The page that sent the reader: a URL or a bare host (`referrer`).
    pub referrer: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
}

impl RawSource {
    pub fn is_empty(&self) -> bool {
        [&self.article, &self.referrer, &self.utm_source, &self.utm_medium, &self.utm_campaign]
            .iter()
            .all(|v| v.trim().is_empty())
    }

    /// Reads the five values from `(key, value)` pairs (a query or a form);
    /// other keys are ignored. A key given twice keeps its first value.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    ) -> Self {
        let mut raw = RawSource::default();
        for (k, v) in pairs {
            let slot = match k.as_ref() {
                "article" => &mut raw.article,
                "referrer" => &mut raw.referrer,
                "utm_source" => &mut raw.utm_source,
                "utm_medium" => &mut raw.utm_medium,
                "utm_campaign" => &mut raw.utm_campaign,
                _ => continue,
            };
            if slot.is_empty() {
                *slot = v.chars().take(MAX_INPUT_CHARS + 1).collect();
            }
        }
        raw
    }

    /// Whether a query string (or form body) names any of the five keys.
    pub fn named_in(query: &str) -> bool {
        url::form_urlencoded::parse(query.as_bytes())
            .any(|(k, _)| matches!(k.as_ref(), "article" | "referrer" | "utm_source" | "utm_medium" | "utm_campaign"))
    }
}

/// What is accepted: article URLs on the newsroom's origins only, and never
/// our own host as a referrer (moving between our pages is not a source).
#[derive(Clone, Debug, Default)]
pub struct SourcePolicy {
    origins: Vec<url::Origin>,
    own_host: Option<String>,
}

impl SourcePolicy {
    /// `origins`: the newsroom's website origins (`TRUSTED_ORIGINS`);
    /// `public_url`: Patronage's own (`PUBLIC_URL`). Origins that do not parse
    /// are skipped (configuration checks them at start-up).
    pub fn new(origins: &[String], public_url: &str) -> Self {
        let origins = origins
            .iter()
            .filter_map(|o| url::Url::parse(o).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.origin())
            .collect();
        let own_host = url::Url::parse(public_url).ok().and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()));
        Self { origins, own_host }
    }
}

/// A checked source. Absent parts are empty strings (so the five values are a
/// plain key); at least one part is present.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    article_url: String,
    referrer_host: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
}

impl Source {
    /// The parts of `raw` that are safe to keep; `None` when nothing is.
    pub fn from_raw(raw: &RawSource, policy: &SourcePolicy) -> Option<Source> {
        let source = Source {
            article_url: article_url(&raw.article, policy).unwrap_or_default(),
            referrer_host: referrer_host(&raw.referrer, policy).unwrap_or_default(),
            utm_source: utm_value(&raw.utm_source),
            utm_medium: utm_value(&raw.utm_medium),
            utm_campaign: utm_value(&raw.utm_campaign),
        };
        (!source.parts().iter().all(|p| p.is_empty())).then_some(source)
    }

    /// A source as stored: read back from our own table, already checked.
    pub fn from_stored(
        article_url: String,
        referrer_host: String,
        utm_source: String,
        utm_medium: String,
        utm_campaign: String,
    ) -> Self {
        Source { article_url, referrer_host, utm_source, utm_medium, utm_campaign }
    }

    fn parts(&self) -> [&str; 5] {
        [&self.article_url, &self.referrer_host, &self.utm_source, &self.utm_medium, &self.utm_campaign]
    }

    /// The same five values always give the same id, so a source is stored once
    /// however many requests carry it (no read-then-insert).
    pub fn id(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in self.parts() {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    pub fn article_url(&self) -> &str {
        &self.article_url
    }
    pub fn referrer_host(&self) -> &str {
        &self.referrer_host
    }
    pub fn utm_source(&self) -> &str {
        &self.utm_source
    }
    pub fn utm_medium(&self) -> &str {
        &self.utm_medium
    }
    pub fn utm_campaign(&self) -> &str {
        &self.utm_campaign
    }

    /// Back to the raw field names (to carry it in a cookie or in Stripe metadata).
    pub fn to_raw(&self) -> RawSource {
        RawSource {
            article: self.article_url.clone(),
            referrer: self.referrer_host.clone(),
            utm_source: self.utm_source.clone(),
            utm_medium: self.utm_medium.clone(),
            utm_campaign: self.utm_campaign.clone(),
        }
    }

    /// The non-empty parts as `(field name, value)`.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        ["article", "referrer", "utm_source", "utm_medium", "utm_campaign"]
            .into_iter()
            .zip(self.parts())
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }
}

/// An http(s) URL on one of the newsroom's origins, without credentials, query
/// or fragment (a query may carry a reader's token or address).
fn article_url(input: &str, policy: &SourcePolicy) -> Option<String> {
    let input = input.trim();
    if input.is_empty() || input.chars().count() > MAX_INPUT_CHARS {
        return None;
    }
    let mut url = url::Url::parse(input).ok()?;
    if !matches!(url.scheme(), "http" | "https") || !policy.origins.contains(&url.origin()) {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    let url = url.to_string();
    (url.chars().count() <= MAX_ARTICLE_CHARS).then_some(url)
}

/// The host of an http(s) URL, or a bare host name: lower case, without a
/// leading `www.`, never our own.
fn referrer_host(input: &str, policy: &SourcePolicy) -> Option<String> {
    let input = input.trim();
    if input.is_empty() || input.chars().count() > MAX_INPUT_CHARS {
        return None;
    }
    let host = match url::Url::parse(input) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url.host_str()?.to_ascii_lowercase(),
        Ok(_) => return None,
        // A bare host (as we store it and send it to Stripe).
        Err(_) => url::Url::parse(&format!("https://{input}/")).ok()?.host_str()?.to_ascii_lowercase(),
    };
    if policy.own_host.as_deref() == Some(host.as_str()) {
        return None;
    }
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let plain = host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    (plain && !host.is_empty() && host.len() <= MAX_HOST_CHARS && host.contains('.')).then_some(host)
}

/// Text, trimmed, in lower case, without control or invisible formatting
/// characters, whitespace runs as one space, cut to [`MAX_UTM_CHARS`].
fn utm_value(input: &str) -> String {
    let cleaned: String = input
        .chars()
        .take(MAX_INPUT_CHARS)
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .collect();
    let words: Vec<&str> = cleaned.split(' ').filter(|w| !w.is_empty()).collect();
    words.join(" ").to_lowercase().chars().take(MAX_UTM_CHARS).collect::<String>().trim_end().to_string()
}

/// Zero-width and bidirectional formatting characters: they make one value look
/// like another in a report.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SourcePolicy {
        SourcePolicy::new(&["https://news.example".to_string()], "https://members.news.example")
    }

    fn raw(article: &str, referrer: &str, campaign: &str) -> RawSource {
        RawSource {
            article: article.into(),
            referrer: referrer.into(),
            utm_campaign: campaign.into(),
            ..Default::default()
        }
    }

    #[test]
    fn articles_are_kept_only_on_the_newsrooms_origins_without_query_or_fragment() {
        let p = policy();
        let s = Source::from_raw(&raw("https://news.example/2026/bridge?email=a@b.c#top", "", ""), &p).expect("kept");
        assert_eq!(s.article_url(), "https://news.example/2026/bridge");
        for bad in [
            "javascript:alert(1)",
            "http://news.example/x",
            "https://evil.example/x",
            "https://news.example.evil.example/x",
            "data:text/html,x",
            "ftp://news.example/x",
            "/relative",
        ] {
            assert_eq!(Source::from_raw(&raw(bad, "", ""), &p), None, "{bad}");
        }
        let long = format!("https://news.example/{}", "a".repeat(600));
        assert_eq!(Source::from_raw(&raw(&long, "", ""), &p), None);
        let creds = Source::from_raw(&raw("https://user:pw@news.example/a", "", ""), &p).expect("kept");
        assert_eq!(creds.article_url(), "https://news.example/a");
    }

    #[test]
    fn referrers_keep_the_host_only_and_never_our_own() {
        let p = policy();
        let host = |r: &str| Source::from_raw(&raw("", r, ""), &p).map(|s| s.referrer_host().to_string());
        assert_eq!(host("https://www.Google.com/search?q=secret").as_deref(), Some("google.com"));
        assert_eq!(host("t.co").as_deref(), Some("t.co"));
        assert_eq!(host("https://members.news.example/patron"), None);
        assert_eq!(host("javascript:alert(1)"), None);
        assert_eq!(host("android-app://com.google.android.gm/"), None);
        assert_eq!(host("not a host"), None);
        assert_eq!(host("localhost"), None);
    }

    #[test]
    fn utm_values_lose_control_and_invisible_characters_and_are_cut() {
        let p = policy();
        let s = Source::from_raw(&raw("", "", "  Spring\u{0}\u{202E}  Drive\r\n2026 "), &p).expect("kept");
        assert_eq!(s.utm_campaign(), "spring drive 2026");
        let long = Source::from_raw(&raw("", "", &"x".repeat(5000)), &p).expect("kept");
        assert_eq!(long.utm_campaign().chars().count(), MAX_UTM_CHARS);
        assert_eq!(Source::from_raw(&raw("", "", "\u{1}\u{200B}  "), &p), None);
    }

    #[test]
    fn the_same_values_give_the_same_id() {
        let p = policy();
        let a = Source::from_raw(&raw("https://news.example/a", "", "x"), &p).expect("kept");
        let b = Source::from_raw(&raw("https://news.example/a?utm_source=y", "", "X"), &p).expect("kept");
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 32);
        let c = Source::from_raw(&raw("https://news.example/a", "x", ""), &p);
        assert_ne!(c.map(|c| c.id()), Some(a.id()));
    }
}

/// How the sources report groups: by article, by campaign (with its utm source
/// and medium), by referring host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceDimension {
    Article,
    Campaign,
    Referrer,
}

impl SourceDimension {
    pub const ALL: [SourceDimension; 3] = [Self::Article, Self::Campaign, Self::Referrer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Campaign => "campaign",
            Self::Referrer => "referrer",
        }
    }

    /// The line a source falls in ('' for none).
    pub fn key(self, source: Option<&Source>) -> String {
        let Some(s) = source else { return String::new() };
        match self {
            Self::Article => s.article_url.clone(),
            Self::Referrer => s.referrer_host.clone(),
            Self::Campaign if [&s.utm_campaign, &s.utm_source, &s.utm_medium].iter().all(|v| v.is_empty()) => {
                String::new()
            }
            Self::Campaign => {
                let or_dash = |v: &str| if v.is_empty() { "–".to_string() } else { v.to_string() };
                format!("{} ({} / {})", or_dash(&s.utm_campaign), or_dash(&s.utm_source), or_dash(&s.utm_medium))
            }
        }
    }
}

/// What one line of the sources report counts in one currency: new patrons
/// (a subscription's first payment), membership payments and gifts with their
/// gross, before refunds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceFigures {
    pub new_patrons: i64,
    pub memberships: i64,
    pub membership_minor: i64,
    pub gifts: i64,
    pub gift_minor: i64,
}

impl SourceFigures {
    pub fn revenue_minor(&self) -> i64 {
        self.membership_minor + self.gift_minor
    }

    pub fn absorb(&mut self, other: &SourceFigures) {
        self.new_patrons += other.new_patrons;
        self.memberships += other.memberships;
        self.membership_minor += other.membership_minor;
        self.gifts += other.gifts;
        self.gift_minor += other.gift_minor;
    }
}

/// One line: its key ('' for "none") and its figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLine<T> {
    pub key: String,
    pub figures: T,
}

/// Lines per dimension, in the order of [`SourceDimension::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceTables<T> {
    pub tables: Vec<(SourceDimension, Vec<SourceLine<T>>)>,
    pub total: T,
}

/// The sources report of a range: new members per first source (no currency),
/// and money per currency (never added across currencies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcesReport {
    pub joins: SourceTables<i64>,
    pub currencies: Vec<(super::Currency, SourceTables<SourceFigures>)>,
}
