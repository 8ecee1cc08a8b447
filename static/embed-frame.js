// Inside a Patronage box: tell the page that frames it how tall the box is, so
// the newsroom's embed script can size the frame to fit (no scroll bars).
(function () {
  if (window.parent === window) return;
  var last = 0;
  // The content's own height: the document's scrollHeight is never less than the
  // frame, so a box whose content got shorter (a phone turned sideways) would keep
  // its old height, and one the browser lays out taller would only ever grow.
  function report() {
    var body = document.body, style = getComputedStyle(body);
    var height = Math.ceil(body.getBoundingClientRect().height
      + parseFloat(style.marginTop) + parseFloat(style.marginBottom));
    if (height !== last) {
      last = height;
      window.parent.postMessage({ patronage: "height", path: location.pathname, height: height }, "*");
    }
  }
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
  report();
})();

// The host page's source (article, referrer, utm_*), given to this frame by the
// embed script, goes with every link to Patronage, so checkout knows where the
// reader came from. The box's HTML is the same for every reader (cached); only
// this script adds the source, in this reader's frame.
(function () {
  var own = new URLSearchParams(location.search);
  var keys = ["article", "referrer", "utm_source", "utm_medium", "utm_campaign"];
  function carry() {
    document.querySelectorAll("a[target=_top]").forEach(function (a) {
      var url = new URL(a.href, location.href);
      if (url.origin !== location.origin) return;
      keys.forEach(function (k) {
        var v = own.get(k);
        if (v && !url.searchParams.has(k)) url.searchParams.set(k, v);
      });
      a.href = url.toString();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", carry);
  else carry();
})();
