// Console behaviour that needs a line of script: closing alerts, confirming, copying text,
// printing. Everything else is plain HTML forms plus htmx attributes. Pages carry no inline
// script or on* handler: the Content-Security-Policy allows scripts from our own files only.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      var alert = dismiss.closest(".alert");
      if (alert) alert.remove();
      return;
    }
    if (event.target.closest("[data-print]")) {  // receipts: <button data-print>
      window.print();
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      if (!source) return;
      var text = source.value !== undefined ? source.value : source.textContent;
      copyText(text.trim()).then(function () {
        var original = copy.textContent;
        copy.textContent = copy.getAttribute("data-copied") || "✓";
        setTimeout(function () { copy.textContent = original; }, 2000);
      });
    }
  });

  // Destructive buttons (deactivate, revoke) ask first: <form data-confirm="question">.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // navigator.clipboard needs a secure context; shops often serve the console over plain
  // http on the LAN, so fall back to selecting the text and execCommand.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }
})();
