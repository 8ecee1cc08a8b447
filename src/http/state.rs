use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::services::Context;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub ctx: Context,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    /// `/static/style.<hash>.css`: the hash busts caches when the file changes.
    pub css_url: Arc<str>,
    /// This process's name in job leases.
    pub worker_id: Arc<str>,
    pub pages: Arc<super::page_cache::PageCache>,
}
