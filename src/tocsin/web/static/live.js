// Live regions: an element with data-live="/url" is refreshed from that URL every
// data-live-every seconds (default 5). Polling rather than a socket keeps every proxy happy.
// The swap is skipped while focus is inside the region, so keyboard users never lose place,
// and while the tab is hidden, so idle phones do not poll.
(function () {
  "use strict";
  function start(region) {
    var url = region.getAttribute("data-live");
    var every = Math.max(2, parseInt(region.getAttribute("data-live-every") || "5", 10)) * 1000;
    var status = document.querySelector("[data-live-status]");
    var last = null;
    function tick() {
      if (document.hidden || region.contains(document.activeElement)) {
        return setTimeout(tick, every);
      }
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.redirected || response.status === 401 || response.status === 303) {
            if (status) { status.textContent = "Signed out: reload the page to sign in again."; }
            return null;
          }
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          if (html !== last) {
            region.innerHTML = html;
            last = html;
          }
          if (status) {
            status.textContent = "Updated " + new Date().toLocaleTimeString();
          }
          region.setAttribute("data-live-fresh", String(Date.now()));
          setTimeout(tick, every);
        })
        .catch(function () {
          if (status) { status.textContent = "Cannot reach Tocsin; retrying…"; }
          setTimeout(tick, every * 2);
        });
    }
    setTimeout(tick, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), start);
  });
})();
