// The till's catalogue panel (sales/_catalogue_panel.html): a product search and the
// favourites grid. Tapping a product posts `pick:SKU` through the till's own queue (till.js
// handles every button named "op"); this script only tidies the search around it: Enter
// picks the first result, a pick clears the search, Esc in the box empties it.
(function () {
  "use strict";

  var box = document.getElementById("product-search");
  var results = document.getElementById("product-results");
  if (!box || !results) return;

  function clearSearch() {
    box.value = "";
    results.innerHTML = "";
  }

  results.addEventListener("click", function (event) {
    if (event.target.closest("button[name=op]")) {
      // After till.js has read the click: the results go, the scanner gets the focus back.
      window.setTimeout(function () {
        clearSearch();
        var scan = document.getElementById("scan-input");
        if (scan) scan.focus();
      }, 0);
    }
  });

  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      var first = results.querySelector("button[name=op]");
      if (first) first.click();
    } else if (event.key === "Escape" && box.value) {
      clearSearch();
    }
  });
})();
