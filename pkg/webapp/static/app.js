// Progressive enhancement only: every page works without this script.
// A section's mode select submits its form when it changes, so the figures update at once.
document.addEventListener("change", function (e) {
  var el = e.target;
  if (el.classList && el.classList.contains("autosubmit") && el.form) {
    el.form.requestSubmit();
  }
});

// While a sync runs, the Connections screen asks the server to answer when it is over (the
// request waits for it), then reloads to show the new state.
(function () {
  var progress = document.querySelector("[data-syncing]");
  if (!progress || !window.fetch) {
    return;
  }
  fetch("/api/connections?wait=1", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function () { location.reload(); })
    .catch(function () {});
})();
