// "Copy" buttons: <button data-copy="#id" hidden> copies that element's text. Without
// JavaScript (or the clipboard API) the button stays hidden and the text stays selectable.
(function () {
  "use strict";
  function setUp() {
    if (!navigator.clipboard) { return; }
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 2000);
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
