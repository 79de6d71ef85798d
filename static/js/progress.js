/* Progress of a background job: an element with data-progress-url polls that JSON endpoint
   ({phase, done, total, finished}) and reloads the page when the job has finished.
   Kept out of the templates: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  document.querySelectorAll("[data-progress-url]").forEach(function (box) {
    var phase = box.querySelector("[data-progress-phase]");
    var text = box.querySelector("[data-progress-text]");
    var bar = box.querySelector("[data-progress-bar]");
    function tick() {
      fetch(box.dataset.progressUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
        if (phase) { phase.textContent = p.phase || "排队中"; }
        if (text) { text.textContent = p.done + " / " + p.total; }
        if (bar) { bar.style.width = (p.total ? Math.min(100, 100 * p.done / p.total) : 0) + "%"; }
        if (p.finished) { window.location.reload(); } else { setTimeout(tick, 1000); }
      }).catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 500);
  });
})();
