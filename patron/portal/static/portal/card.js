// The card page's codes (F-20): fetch fresh ones from /m/qr before they expire and when the
// page is shown again, and count down. ES5 and XMLHttpRequest for WeChat's older browsers;
// without JavaScript the page reloads itself (a <noscript> refresh).
(function () {
  "use strict";
  var box = document.getElementById("member-codes");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var countdown = document.getElementById("codes-countdown");
  var template = countdown ? countdown.getAttribute("data-template") : "";
  // Seconds until new codes are fetched (the server leaves the codes time to be scanned).
  var left = parseInt(box.getAttribute("data-refresh-in"), 10) || 0;
  var busy = false;

  function show() {
    if (countdown && template) {
      countdown.textContent = template.replace("{n}", String(Math.max(left, 0)));
    }
  }

  function apply(data) {
    document.getElementById("qr").innerHTML = data.qr_svg;
    document.getElementById("barcode").innerHTML = data.barcode_svg;
    var digits = document.getElementById("barcode-digits");
    digits.textContent = data.digits_shown;
    digits.setAttribute("data-digits", data.digits);
    left = data.refresh_in;
    show();
  }

  function refresh() {
    if (busy) { return; }
    busy = true;
    var request = new XMLHttpRequest();
    request.open("GET", url, true);
    request.setRequestHeader("Accept", "application/json");
    request.onreadystatechange = function () {
      if (request.readyState !== 4) { return; }
      busy = false;
      var data = null;
      if (request.status === 200) {
        try { data = JSON.parse(request.responseText); } catch (e) { data = null; }
      }
      if (data && data.qr_svg) {
        apply(data);
      } else if (request.status === 409 || request.status === 200) {
        // The card was reported lost, or the session ended (the login page came back):
        // the page itself says what to do.
        window.location.reload();
      } else {
        left = 5; // offline or a server hiccup: try again shortly
      }
    };
    request.send();
  }

  window.setInterval(function () {
    left -= 1;
    if (left <= 0 && !document.hidden) { refresh(); }
    show();
  }, 1000);

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { refresh(); }
  });
  show();

  var face = document.getElementById("card-face");
  if (face) {
    var colour = face.getAttribute("data-colour");
    var image = face.getAttribute("data-image");
    if (colour) { face.style.background = colour; }
    if (image) { face.style.backgroundImage = "url(" + image + ")"; face.className += " m-face-image"; }
  }
})();
