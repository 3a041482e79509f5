// The promotion editor: show only the inputs that matter for the chosen benefit type (or
// validity), and say what a 折 means. Elements name what they depend on:
// <div data-when="benefit_type:percent fixed"> is shown while the control named benefit_type
// has one of those values. No inline script: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function chosen(form, name) {
    var controls = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < controls.length; i++) {
      var control = controls[i];
      if (control.type === "radio") {
        if (control.checked) return control.value;
      } else {
        return control.value;
      }
    }
    return "";
  }

  function update(form) {
    var parts = form.querySelectorAll("[data-when]");
    for (var i = 0; i < parts.length; i++) {
      var rule = parts[i].getAttribute("data-when").split(":");
      var values = rule[1].split(" ");
      parts[i].hidden = values.indexOf(chosen(form, rule[0])) === -1;
    }
    var hint = document.getElementById("rate-hint");
    var rate = form.querySelector('[name="rate"]');
    if (hint && rate) {
      var text = rate.value.trim().replace(/折$/, "");
      var ok = /^\d(\.\d)?$/.test(text);
      var off = 100 - Math.round(parseFloat(text) * 10);
      hint.textContent = ok
        ? hint.getAttribute("data-hint").replace("{rate}", text).replace("{off}", off)
        : "";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("rule-form");
    if (!form) return;
    form.addEventListener("change", function () { update(form); });
    form.addEventListener("input", function () { update(form); });
    update(form);
  });
})();
