// Inside a Patronage box: tell the page that frames it how tall the box is, so
// the newsroom's embed script can size the frame to fit (no scroll bars).
(function () {
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.scrollHeight);
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
