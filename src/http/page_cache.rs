//! Pages that look the same for every anonymous visitor (the landing page, the
//! topics page, results) are rendered and gzipped once, then served from memory
//! until the data under them changes on this instance (see `services::cache`)
//! or a few seconds pass. A page that differs for some members is cached per
//! variant: members whose page would come out the same share one copy.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::clock::{Clock, Micros, SECOND};
use crate::domain::Locale;

const TTL: Micros = 2 * SECOND;

/// A rendered page. Kept gzipped only (a quarter of the memory): nearly every
/// client takes gzip, and the few that do not get it unpacked.
#[derive(Debug)]
pub struct Page {
    body: Body,
}

#[derive(Debug)]
enum Body {
    Gzip(Bytes),
    Plain(Bytes),
}

/// The route, the language, and the variant of the page ("" when everyone sees the same).
pub type Key = (&'static str, Locale, String);
/// Beyond this many pages the cache starts over (memory stays bounded).
const MAX_PAGES: usize = 256;
/// A page, until when it may be served, and the data generation it was rendered from.
type Entry = (Micros, u64, Arc<Page>);

#[derive(Debug, Default)]
pub struct PageCache {
    entries: RwLock<HashMap<Key, Entry>>,
}

impl PageCache {
    /// The page to serve for `key`, or None when the caller must render it. A
    /// page past its time is rendered anew by the one request that finds it so;
    /// the others keep getting it meanwhile (rather than all rendering at once).
    /// A page from older data is never served.
    fn fresh_or_claim(&self, now: Micros, generation: u64, key: &Key) -> Option<Arc<Page>> {
        {
            let entries = self.entries.read().ok()?;
            match entries.get(key) {
                Some((expires, from, page)) if *from == generation && now < *expires => return Some(page.clone()),
                Some((_, from, _)) if *from == generation => {}
                _ => return None,
            }
        }
        let mut entries = self.entries.write().ok()?;
        let (expires, from, page) = entries.get_mut(key)?;
        if *from != generation {
            return None;
        }
        if now < *expires {
            return Some(page.clone());
        }
        *expires = now + TTL;
        None
    }

    fn put(&self, now: Micros, generation: u64, key: Key, page: Arc<Page>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_PAGES {
                entries.retain(|_, (expires, rendered_from, _)| now < *expires && *rendered_from == generation);
            }
            if entries.len() >= MAX_PAGES {
                entries.clear();
            }
            entries.insert(key, (now + TTL, generation, page));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// The cached page for `key`, or the one `render` makes (kept for next
    /// time). `generation` is the data's ([`Caches::generation`]).
    ///
    /// [`Caches::generation`]: crate::services::cache::Caches::generation
    pub async fn get_or_render<E, F, Fut>(
        &self,
        clock: &Clock,
        generation: u64,
        key: Key,
        render: F,
    ) -> Result<Arc<Page>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, E>>,
    {
        let now = clock.now();
        if let Some(page) = self.fresh_or_claim(now, generation, &key) {
            return Ok(page);
        }
        let html = render().await?;
        let body = match gzip(html.as_bytes()) {
            Some(gz) => Body::Gzip(gz),
            None => Body::Plain(Bytes::from(html)),
        };
        let page = Arc::new(Page { body });
        self.put(now, generation, key, page.clone());
        Ok(page)
    }
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
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
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
    async fn pages_are_rendered_once_until_they_expire_or_are_cleared() {
        let cache = PageCache::default();
        let clock = Clock::default();
        let render = |s: &'static str| async move { Ok::<_, ()>(s.to_string()) };
        let key = |locale, variant: &str| ("/", locale, variant.to_string());
        let a = cache.get_or_render(&clock, 0, key(Locale::En, ""), || render("one")).await.expect("renders");
        let b = cache.get_or_render(&clock, 0, key(Locale::En, ""), || render("two")).await.expect("cached");
        assert_eq!(b.html(), a.html());
        let uk = cache.get_or_render(&clock, 0, key(Locale::Uk, ""), || render("три")).await.expect("per language");
        assert_eq!(uk.html().as_ref(), "три".as_bytes());
        let voted = cache.get_or_render(&clock, 0, key(Locale::En, "x"), || render("mine")).await.expect("variant");
        assert_eq!(voted.html().as_ref(), b"mine");
        clock.advance(TTL);
        let c = cache.get_or_render(&clock, 0, key(Locale::En, ""), || render("three")).await.expect("expired");
        assert_eq!(c.html().as_ref(), b"three");
        let d = cache.get_or_render(&clock, 1, key(Locale::En, ""), || render("four")).await.expect("data changed");
        assert_eq!(d.html().as_ref(), b"four");
        let response = d.respond(&headers("gzip"));
        // Past its time, one request renders the page anew; the others get the old one meanwhile.
        clock.advance(TTL);
        let now = clock.now();
        assert!(cache.fresh_or_claim(now, 1, &key(Locale::En, "")).is_none(), "the first renders");
        let meanwhile = cache.fresh_or_claim(now, 1, &key(Locale::En, "")).expect("the others are served");
        assert_eq!(meanwhile.html().as_ref(), b"four");
        assert!(cache.fresh_or_claim(now, 2, &key(Locale::En, "")).is_none(), "never from older data");
        assert_eq!(response.headers().get(header::CONTENT_ENCODING).map(|v| v.as_bytes()), Some(&b"gzip"[..]));
    }
}
