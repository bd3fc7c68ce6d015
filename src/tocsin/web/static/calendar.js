// Pick an override's span on the calendar: click the final row once for the start and once
// more for the end; the form's fields fill in (rounded to the hour, in the person's zone).
// The form works without this; it only saves typing.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("override-form");
    var cal = document.querySelector("[data-calendar]");
    if (!form || !cal) { return; }
    var zone = cal.getAttribute("data-zone") || "UTC";
    var start = form.querySelector("[name=start]");
    var end = form.querySelector("[name=end]");
    var hint = form.querySelector("[data-pick-hint]");
    if (hint) { hint.hidden = false; }
    var picking = null;
    function local(ms) {
      var parts = {};
      new Intl.DateTimeFormat("en-CA", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23"
      }).formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
      return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
    }
    Array.prototype.forEach.call(cal.querySelectorAll(".lane-final .cal-track"), function (track) {
      track.addEventListener("click", function (event) {
        var box = track.getBoundingClientRect();
        var from = Date.parse(track.getAttribute("data-week-start"));
        var to = Date.parse(track.getAttribute("data-week-end"));
        var at = from + (to - from) * ((event.clientX - box.left) / box.width);
        at = Math.round(at / 3600000) * 3600000;
        if (picking === null || at <= picking) {
          picking = at;
          start.value = local(at);
          end.value = "";
        } else {
          end.value = local(at);
          picking = null;
          form.scrollIntoView({ behavior: "smooth", block: "center" });
        }
      });
    });
  });
})();
