// Inside the corrections dialog that embed.js lays over an article: the
// backdrop, the close buttons and Escape ask the article page to remove the
// frame (outside a frame they go back). The note field gets the focus.
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
  });
  var first = document.querySelector("[aria-invalid=true]") || document.getElementById("correction-note") ||
    document.querySelector(".correction-dialog button.primary");
  if (first) first.focus();
})();
