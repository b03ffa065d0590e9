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

// While the figures are recomputed after a settings change, the banner's progress (on every
// page) updates itself, and the page reloads at the end (without the script, reloading the page shows the progress).
(function () {
  var el = document.getElementById("recompute");
  if (!el || !window.fetch) return;
  var bar = el.querySelector("progress"), count = el.querySelector(".count");
  function poll() {
    fetch(el.getAttribute("data-progress"), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (!p.running) { window.location.reload(); return; }
        bar.max = p.total || 1; bar.value = p.done;
        count.textContent = p.done + " / " + p.total;
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 500);
})();
