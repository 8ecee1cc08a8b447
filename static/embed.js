// Patronage's embed script for the newsroom's article pages. It turns each
// <a data-patronage-box="patron|poll" href="https://…/patron"> into the box of
// that name, in a frame sized to its content, in the page's language. With an
// <a data-patronage-correction href="https://…/corrections/new?url=…">, that
// link and Ctrl+Enter (⌘+Enter) on selected text open the corrections form
// over the article, quoting the selection. Without scripts links stay links.
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
  var fix = document.querySelector("a[data-patronage-correction]"), dialog, back;
  function open(quote) {
    if (dialog) return;
    back = document.activeElement;
    var canonical = document.querySelector("link[rel=canonical]");
    var params = new URLSearchParams({ url: (canonical || location).href.split("#")[0],
      quote: quote.slice(0, 1000), lang: fix.getAttribute("data-lang") || lang });
    if (fix.getAttribute("data-theme")) params.set("theme", fix.getAttribute("data-theme"));
    dialog = document.createElement("iframe");
    dialog.src = origin + "/embed/correction?" + params.toString();
    dialog.title = fix.textContent;
    dialog.style.cssText = "position:fixed;inset:0;width:100%;height:100%;border:0;z-index:2147483647";
    dialog.onload = function () { dialog && dialog.focus(); };
    document.body.appendChild(dialog);
  }
  if (fix) {
    fix.addEventListener("click", function (event) {
      event.preventDefault();
      open(String(getSelection()).trim());
    });
    document.addEventListener("keydown", function (event) {
      var t = event.target, quote = String(getSelection()).trim();
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || !quote
        || t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
      event.preventDefault();
      open(quote);
    });
  }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data) return;
    if (data.patronage === "close" && dialog && dialog.contentWindow === event.source) {
      dialog.remove();
      dialog = null;
      if (back && back.focus) back.focus();
    }
    if (data.patronage === "height") frames.forEach(function (frame) {
      if (frame.contentWindow === event.source) frame.style.height = data.height + "px";
    });
  });
})();
