// Progressive enhancement for the donation form: the "cover the fee" label
// names the exact extra for the preset picked (computed on the server, one
// label per preset); for a typed amount it falls back to the plain wording,
// and the checkout shows the exact total before anything is paid.
(function () {
  var label = document.getElementById("cover-fee-label");
  if (!label) return;
  var form = label.closest("form");
  var custom = document.getElementById("donate-amount");
  function update() {
    if (custom && custom.value.trim() !== "") {
      label.textContent = label.getAttribute("data-generic");
      return;
    }
    var picked = form.querySelector('input[name="preset"]:checked');
    if (picked && picked.getAttribute("data-cover-label")) {
      label.textContent = picked.getAttribute("data-cover-label");
    }
  }
  form.addEventListener("change", update);
  if (custom) custom.addEventListener("input", update);
})();
