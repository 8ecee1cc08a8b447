//! Pages that look the same for every anonymous visitor (the landing page, the
//! topics page, results) are rendered and gzipped once, then served from memory
//! until the data under them changes on this instance (see `services::cache`)
//! or a few seconds pass. A page that differs for some members is cached per
//! variant: members whose page would come out the same share one copy.
use std::io::{Read, Write};
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::clock::{Clock, Micros, SECOND};
use crate::domain::{Locale, MemberId, RoundId};
use crate::services::cache::{Cache, MemberVotes};

/// How long a rendered page is served before it is rendered anew (any change
/// through this instance renews it at once).
pub const TTL: Micros = 2 * SECOND;
/// Beyond this many pages the cache drops the expired ones, and starts over when
/// all are live (memory stays bounded).
const MAX_PAGES: usize = 256;

/// A rendered page. Kept gzipped only (a quarter of the memory): nearly every
/// client takes gzip, and the few that do not get it unpacked.
#[derive(Debug)]
pub struct Page {
    body: Body,
    content_type: &'static str,
    /// A validator of the content (for JSON documents, which clients revalidate).
    etag: Option<HeaderValue>,
}

#[derive(Debug)]
enum Body {
    Gzip(Bytes),
    Plain(Bytes),
}

/// Which page, in which language, and for whom: everything a cached page
/// depends on besides the data generation. Readers whose page would come out
/// the same have equal keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PageKey {
    /// The landing page, as anonymous visitors see it.
    Landing { lang: Locale, currency: String },
    /// The topics page: for visitors (`member` None), or for a member by what
    /// they see differently.
    Topics { lang: Locale, member: Option<TopicsMember> },
    /// A member's account page (its first page of payments), at the version of
    /// what it shows of them ([`Caches::member_version`]).
    ///
    /// [`Caches::member_version`]: crate::services::cache::Caches::member_version
    Account { member: MemberId, lang: Locale, version: u64 },
    /// A document of the public JSON API (`/api/v1/…`) in a language: its path
    /// stands for its query too, as the language is its only parameter.
    Api { path: &'static str, lang: Locale },
    /// A box for the newsroom's pages (`patron` or `poll`), in a language,
    /// theme and currency: the same for every reader.
    Embed { kind: &'static str, lang: Locale, theme: &'static str, currency: String },
    /// A page that differs only by its path, language and whether the reader is
    /// signed in (the navigation): `/covered`, a round's page for visitors.
    Shared { path: String, lang: Locale, signed_in: bool },
    /// A member's "stories I helped commission", at the version of what it
    /// shows of them (their votes).
    Commissioned { member: MemberId, lang: Locale, version: u64 },
}

/// What the topics page shows differently to one member.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TopicsMember {
    /// Why they may not vote (its message key), if they may not.
    refusal: Option<&'static str>,
    /// The topics they voted for in each round on show, both in order.
    votes: Vec<(RoundId, Vec<String>)>,
}

impl PageKey {
    pub fn landing(lang: Locale, currency: &str) -> Self {
        Self::Landing { lang, currency: currency.to_string() }
    }

    /// The topics page for a visitor (`member` None), or for a member who may
    /// not vote for `refusal` (None when they may) and voted for `votes`.
    pub fn topics(lang: Locale, member: Option<(Option<&'static str>, &MemberVotes)>) -> Self {
        let member = member.map(|(refusal, votes)| {
            let mut votes: Vec<(RoundId, Vec<String>)> = votes
                .iter()
                .map(|(round, topics)| {
                    let mut topics: Vec<String> = topics.iter().cloned().collect();
                    topics.sort_unstable();
                    (*round, topics)
                })
                .collect();
            votes.sort_unstable();
            TopicsMember { refusal, votes }
        });
        Self::Topics { lang, member }
    }
}

/// Rendered pages by their key and the data generation they were rendered from.
#[derive(Debug)]
pub struct PageCache {
    pages: Cache<(PageKey, u64), Arc<Page>>,
}

impl Default for PageCache {
    fn default() -> Self {
        Self { pages: Cache::bounded(TTL, MAX_PAGES) }
    }
}

impl PageCache {
    /// A cache for pages kept per member: more of them, each for the same few seconds.
    pub fn per_member() -> Self {
        Self { pages: Cache::bounded(TTL, MAX_MEMBER_PAGES) }
    }
}

/// Member pages kept at once (a signed-in page is some 5 KB gzipped).
const MAX_MEMBER_PAGES: usize = 2_048;

impl PageCache {
    /// The cached page for `key`, or the one `render` makes (kept for next
    /// time). `generation` is the data's ([`Caches::generation`]): a page from
    /// older data is never served. A page past its time is rendered anew by the
    /// one request that finds it so; the others keep getting it meanwhile
    /// (rather than all rendering at once).
    ///
    /// [`Caches::generation`]: crate::services::cache::Caches::generation
    pub async fn get_or_render<E, F, Fut>(
        &self,
        clock: &Clock,
        generation: u64,
        key: PageKey,
        render: F,
    ) -> Result<Arc<Page>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, E>>,
    {
        self.pages
            .get_or_load(clock, (key, generation), || async {
                let html = render().await?;
                Ok(Arc::new(Page::new(html, "text/html; charset=utf-8", None)))
            })
            .await
    }

    /// As [`PageCache::get_or_render`], for a JSON document: kept with a weak
    /// `ETag` (a digest of its text), so clients can revalidate it.
    pub async fn get_or_render_json<E, F, Fut>(
        &self,
        clock: &Clock,
        generation: u64,
        key: PageKey,
        render: F,
    ) -> Result<Arc<Page>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, E>>,
    {
        self.pages
            .get_or_load(clock, (key, generation), || async {
                let json = render().await?;
                let etag = weak_etag(json.as_bytes());
                Ok(Arc::new(Page::new(json, "application/json", etag)))
            })
            .await
    }
}

/// `W/"<first 16 bytes of the SHA-256, hex>"`: weak, as the same text is sent
/// gzipped or not.
fn weak_etag(content: &[u8]) -> Option<HeaderValue> {
    use sha2::{Digest, Sha256};
    let digest = crate::tokens::hex(&Sha256::digest(content));
    HeaderValue::from_str(&format!("W/\"{}\"", &digest[..32])).ok()
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for it).
fn matches_etag(request_headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default().trim_start_matches("W/");
    request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == ours
        })
}

fn gzip(data: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::fast());
    encoder.write_all(data).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

fn gunzip(data: &[u8]) -> Option<Bytes> {
    let mut html = Vec::with_capacity(data.len() * 4);
    flate2::read::GzDecoder::new(data).read_to_end(&mut html).ok()?;
    Some(Bytes::from(html))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.trim().split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

impl Page {
    fn new(text: String, content_type: &'static str, etag: Option<HeaderValue>) -> Self {
        let body = match gzip(text.as_bytes()) {
            Some(gz) => Body::Gzip(gz),
            None => Body::Plain(Bytes::from(text)),
        };
        Self { body, content_type, etag }
    }

    /// The page as a response to a request that may hold a validator:
    /// `304 Not Modified` (no body) when its `If-None-Match` names this page's
    /// `ETag`, else the page; either way with the `ETag` and `cache_control`.
    pub fn respond_revalidated(&self, request_headers: &HeaderMap, cache_control: &'static str) -> Response {
        let mut response = match &self.etag {
            Some(etag) if matches_etag(request_headers, etag) => {
                let mut r = StatusCode::NOT_MODIFIED.into_response();
                r.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
                r
            }
            _ => self.respond(request_headers),
        };
        let headers = response.headers_mut();
        if let Some(etag) = &self.etag {
            headers.insert(header::ETAG, etag.clone());
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
        response
    }

    /// The page as a response, gzipped when the client takes it (the compression
    /// layer leaves responses that already have a `Content-Encoding` alone).
    pub fn respond(&self, request_headers: &HeaderMap) -> Response {
        let (body, encoded) = match &self.body {
            Body::Gzip(gz) if accepts_gzip(request_headers) => (gz.clone(), true),
            Body::Gzip(gz) => match gunzip(gz) {
                Some(html) => (html, false),
                None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            },
            Body::Plain(html) => (html.clone(), false),
        };
        let mut response = body.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if encoded {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }

    #[cfg(test)]
    fn html(&self) -> Bytes {
        match &self.body {
            Body::Gzip(gz) => gunzip(gz).unwrap_or_default(),
            Body::Plain(html) => html.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept).expect("valid"));
        h
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_take_it() {
        assert!(accepts_gzip(&headers("gzip, deflate, br")));
        assert!(accepts_gzip(&headers("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&headers("gzip;q=0, br")));
        assert!(!accepts_gzip(&headers("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn pages_are_rendered_once_until_they_expire_or_the_data_changes() {
        let cache = PageCache::default();
        let clock = Clock::default();
        let render = |s: &'static str| async move { Ok::<_, ()>(s.to_string()) };
        let en = PageKey::landing(Locale::En, "");
        let a = cache.get_or_render(&clock, 0, en.clone(), || render("one")).await.expect("renders");
        let b = cache.get_or_render(&clock, 0, en.clone(), || render("two")).await.expect("cached");
        assert_eq!(b.html(), a.html());
        let uk = cache
            .get_or_render(&clock, 0, PageKey::landing(Locale::Uk, ""), || render("три"))
            .await
            .expect("per language");
        assert_eq!(uk.html().as_ref(), "три".as_bytes());
        let topics = PageKey::topics(Locale::En, None);
        let visitor = cache.get_or_render(&clock, 0, topics, || render("topics")).await.expect("another page");
        assert_eq!(visitor.html().as_ref(), b"topics");
        clock.advance(TTL);
        let c = cache.get_or_render(&clock, 0, en.clone(), || render("three")).await.expect("expired");
        assert_eq!(c.html().as_ref(), b"three");
        let d = cache.get_or_render(&clock, 1, en.clone(), || render("four")).await.expect("data changed");
        assert_eq!(d.html().as_ref(), b"four");
        let response = d.respond(&headers("gzip"));
        // Past its time, one request renders the page anew; the others get the old one meanwhile.
        clock.advance(TTL);
        let now = clock.now();
        assert!(cache.pages.fresh_or_claim(now, &(en.clone(), 1)).is_none(), "the first renders");
        let meanwhile = cache.pages.fresh_or_claim(now, &(en.clone(), 1)).expect("the others are served");
        assert_eq!(meanwhile.html().as_ref(), b"four");
        assert!(cache.pages.fresh_or_claim(now, &(en, 2)).is_none(), "never from older data");
        assert_eq!(response.headers().get(header::CONTENT_ENCODING).map(|v| v.as_bytes()), Some(&b"gzip"[..]));
    }

    #[tokio::test]
    async fn a_json_document_is_revalidated_by_its_etag() {
        let cache = PageCache::default();
        let clock = Clock::default();
        let key = PageKey::Api { path: "/api/v1/tiers", lang: Locale::En };
        let doc = cache
            .get_or_render_json(&clock, 0, key, || async { Ok::<_, ()>("{\"tiers\":[]}".to_string()) })
            .await
            .expect("renders");
        let fresh = doc.respond_revalidated(&HeaderMap::new(), "public, max-age=5");
        assert_eq!(fresh.status(), StatusCode::OK);
        assert_eq!(fresh.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"application/json"[..]));
        let etag = fresh.headers().get(header::ETAG).cloned().expect("an ETag");
        let asking = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).expect("valid"));
            doc.respond_revalidated(&h, "public, max-age=5").status()
        };
        let tag = etag.to_str().expect("ASCII").to_string();
        assert_eq!(asking(&tag), StatusCode::NOT_MODIFIED);
        assert_eq!(asking(tag.trim_start_matches("W/")), StatusCode::NOT_MODIFIED, "weak comparison");
        assert_eq!(asking(&format!("\"other\", {tag}")), StatusCode::NOT_MODIFIED, "one of a list");
        assert_eq!(asking("*"), StatusCode::NOT_MODIFIED);
        assert_eq!(asking("W/\"other\""), StatusCode::OK);
    }

    #[test]
    fn members_who_see_the_topics_page_alike_share_one_key() {
        let (r1, r2) = (RoundId::new(), RoundId::new());
        let set = |topics: &[&str]| topics.iter().map(|t| t.to_string()).collect::<std::collections::HashSet<_>>();
        let one: MemberVotes = vec![(r1, set(&["b", "a"])), (r2, set(&[]))];
        let same: MemberVotes = vec![(r2, set(&[])), (r1, set(&["a", "b"]))];
        let other: MemberVotes = vec![(r1, set(&["a"])), (r2, set(&[]))];
        let key = |refusal, votes| PageKey::topics(Locale::En, Some((refusal, votes)));
        assert_eq!(key(None, &one), key(None, &same));
        assert_ne!(key(None, &one), key(None, &other));
        assert_ne!(key(None, &one), key(Some("vote-refused-lapsed"), &one));
        assert_ne!(
            key(None, &vec![]),
            PageKey::topics(Locale::En, None),
            "a member with nothing on show is not a visitor"
        );
        assert_ne!(PageKey::topics(Locale::Uk, None), PageKey::topics(Locale::En, None));
    }
}
