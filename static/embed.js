// Patronage's embed script for the newsroom's article pages. It turns each
// <a data-patronage-box="patron|poll" href="https://…/patron"> into the box of
// that name, in a frame sized to its content, in the page's language. Without
// scripts the link stays a link. No dependencies; nothing sent anywhere.
(function () {
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src).origin;
  var lang = (document.documentElement.lang || navigator.language || "en").slice(0, 2);
  var frames = [];
  document.querySelectorAll("a[data-patronage-box]").forEach(function (link) {
    var kind = link.getAttribute("data-patronage-box") === "poll" ? "poll" : "patron";
    var frame = document.createElement("iframe");
    var params = new URLSearchParams({ lang: link.getAttribute("data-lang") || lang });
    var theme = link.getAttribute("data-theme");
    if (theme) params.set("theme", theme);
    var currency = link.getAttribute("data-currency");
    if (currency) params.set("currency", currency);
    // Where the reader is: this article (no query: it may hold a reader's token),
    // the site that sent them (its host only) and the page's utm_* values. The
    // box passes them on to checkout in the top window; nothing else is sent.
    params.set("article", location.origin + location.pathname);
    try { if (document.referrer) params.set("referrer", new URL(document.referrer).host); } catch (e) {}
    new URLSearchParams(location.search).forEach(function (v, k) {
      if (/^utm_(source|medium|campaign)$/.test(k)) params.set(k, v);
    });
    frame.src = origin + "/embed/" + kind + "?" + params.toString();
    frame.title = link.textContent || "Patronage";
    frame.loading = "lazy";
    frame.style.cssText = "width:100%;border:0;display:block;min-height:120px";
    link.replaceWith(frame);
    frames.push(frame);
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || event.data.patronage !== "height") return;
    frames.forEach(function (frame) {
      if (frame.contentWindow === event.source) frame.style.height = event.data.height + "px";
    });
  });
})();
