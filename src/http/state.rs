//! The state every handler and middleware gets: the services context and what
//! only the HTTP layer needs (config, metrics, the page cache).
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::services::Context;

/// Shared by every handler. Cloned several times per request (by every
/// middleware and extractor that asks for it), so a clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub ctx: Context,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    /// `/static/style.<hash>.css`: the hash busts caches when the file changes.
    pub css_url: Arc<str>,
    /// This process's name in job leases.
    pub worker_id: Arc<str>,
    pub pages: Arc<super::page_cache::PageCache>,
    /// Pages kept per member (the account page).
    pub member_pages: Arc<super::page_cache::PageCache>,
}
