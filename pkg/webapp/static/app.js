// Progressive enhancement only: every page works without this script.
// A section's mode select submits its form when it changes, so the figures update at once.
document.addEventListener("change", function (e) {
  var el = e.target;
  if (el.classList && el.classList.contains("autosubmit") && el.form) {
    el.form.requestSubmit();
  }
});
