//! The page where staff copy the boxes for their article template: the
//! `<iframe>` snippet (no script needed on the host) and the script snippet
//! (a link that the script turns into a sized frame), with a live preview of each;
//! and the corrections link, which the same script turns into a form over the article.
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::{Authorized, ViewDashboard, staff_page};
use crate::http::error::AppError;
use crate::http::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/embeds", get(show_embeds))
}

#[derive(Serialize)]
struct Snippet {
    kind: &'static str,
    title: &'static str,
    iframe: String,
    script: String,
    preview: String,
}

async fn show_embeds(State(state): State<AppState>, staff: Authorized<ViewDashboard>) -> Result<Response, AppError> {
    let base = &state.ctx.public_url;
    let script_url = format!("{base}{}", crate::http::public::static_url("embed.js"));
    let snippets: Vec<Snippet> = [("patron", "Patron box", "Become a patron"), ("poll", "Poll box", "Vote on what we cover next")]
        .into_iter()
        .map(|(kind, title, link)| Snippet {
            kind,
            title,
            iframe: format!(
                "<iframe src=\"{base}/embed/{kind}?lang=uk\" title=\"{link}\" loading=\"lazy\" style=\"width:100%;height:480px;border:0\"></iframe>"
            ),
            script: format!(
                "<a href=\"{base}/{}\" data-patronage-box=\"{kind}\">{link}</a>\n<script async src=\"{script_url}\"></script>",
                if kind == "poll" { "topics" } else { "patron" }
            ),
            preview: format!("/embed/{kind}"),
        })
        .collect();
    // The corrections link: the article's address goes in the link (the CMS's
    // permalink), for readers without scripts; the script uses the page's own.
    let correction = format!(
        "<p>To suggest a correction or clarification, <a href=\"{base}/corrections/new?url=ARTICLE_URL\" data-patronage-correction>write to us here</a>. \
         You can also highlight the text and press Ctrl + Enter.</p>\n<script async src=\"{script_url}\"></script>"
    );
    let mut page = staff_page(&state, Some(&staff.user), "/admin/embeds");
    page.insert("snippets", &snippets)
        .insert("trusted_origins", &state.config.trusted_origins)
        .insert("correction_snippet", &correction)
        .insert("site_origins", &state.config.newsroom_site_origins);
    Ok(page.render(&state, "admin/embeds.html")?.into_response())
}
