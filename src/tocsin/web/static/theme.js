// Theme: follows the system (prefers-color-scheme) unless the person picked one; the choice
// is kept in localStorage. Loaded in <head> so the page never flashes the wrong theme.
(function () {
  "use strict";
  var KEY = "tocsin-theme";
  var ORDER = ["auto", "light", "dark"];
  function stored() {
    try { return localStorage.getItem(KEY) || "auto"; } catch (e) { return "auto"; }
  }
  function apply(choice) {
    if (choice === "auto") { document.documentElement.removeAttribute("data-theme"); }
    else { document.documentElement.setAttribute("data-theme", choice); }
  }
  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-theme-toggle]");
    if (!button) { return; }
    function label() { button.textContent = "Theme: " + stored(); }
    button.hidden = false;
    label();
    button.addEventListener("click", function () {
      var next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: session only */ }
      apply(next);
      label();
    });
  });
})();
