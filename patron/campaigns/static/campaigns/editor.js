// The campaign editor: show only the inputs that apply to the chosen kind, audience, schedule
// and trigger event (sections carry data-show-* with the values they apply to). No inline
// script under the Content-Security-Policy; the live count and cron preview are htmx.
(function () {
  "use strict";

  function value(name) {
    var form = document.getElementById("campaign-form");
    var checked = form.querySelector("[name=" + name + "]:checked");
    if (checked) return checked.value;
    var input = form.querySelector("[name=" + name + "]");
    return input ? input.value : "";
  }

  function apply() {
    var kind = value("kind");
    var schedule = kind === "recurring" ? "cron" : (kind === "once" ? value("schedule_mode") : "");
    var current = {
      kind: kind,
      audience: value("audience_mode"),
      schedule: schedule,
      event: value("trigger_event")
    };
    Object.keys(current).forEach(function (key) {
      document.querySelectorAll("[data-show-" + key + "]").forEach(function (node) {
        var wanted = node.getAttribute("data-show-" + key).split(" ");
        node.hidden = wanted.indexOf(current[key]) < 0;
      });
    });
    // "Everyone the trigger applies to" is a journey's choice only.
    var everyone = document.querySelector("input[name=audience_mode][value=all]");
    if (everyone) {
      var holder = everyone.closest("div") || everyone.parentNode;
      holder.hidden = kind !== "trigger";
      if (kind !== "trigger" && everyone.checked) {
        var segment = document.querySelector("input[name=audience_mode][value=segment]");
        segment.checked = true;
        segment.dispatchEvent(new Event("change", { bubbles: true }));  // recount
      }
    }
  }

  // A journey applies to everyone the trigger concerns unless a segment is chosen: switching
  // to one with no segment picked yet selects "everyone" rather than showing an empty choice.
  function kindChanged(event) {
    if (!event.target || event.target.name !== "kind" || event.target.value !== "trigger") return;
    var everyone = document.querySelector("input[name=audience_mode][value=all]");
    var segment = document.querySelector("[name=segment]");
    if (everyone && value("audience_mode") === "segment" && segment && !segment.value) {
      everyone.checked = true;
      everyone.dispatchEvent(new Event("change", { bubbles: true }));  // recount
    }
  }

  function start() {
    var form = document.getElementById("campaign-form");
    if (!form) return;
    form.addEventListener("change", kindChanged);
    form.addEventListener("change", apply);
    apply();
  }

  if (document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
