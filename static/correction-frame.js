// Inside the corrections dialog that embed.js lays over an article: the
// backdrop, the close buttons and Escape ask the article page to remove the
// frame (outside a frame they go back); Tab stays within the dialog; the note
// field (or the first field in error) gets the focus.
(function () {
  function close() {
    if (window.parent !== window) window.parent.postMessage({ patronage: "close" }, "*");
    else history.back();
  }
  document.addEventListener("click", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-close")) close();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
    if (event.key !== "Tab") return;
    var all = document.querySelectorAll(".correction-dialog :is(button, input, textarea, a[href]):not([tabindex='-1']):not([type=hidden])");
    var first = all[0], last = all[all.length - 1];
    if (event.shiftKey && document.activeElement === first) { last.focus(); event.preventDefault(); }
    else if (!event.shiftKey && document.activeElement === last) { first.focus(); event.preventDefault(); }
  });
  var start = document.querySelector("[aria-invalid=true]") || document.getElementById("correction-note") ||
    document.querySelector(".correction-dialog button.primary");
  if (start) start.focus();
})();
