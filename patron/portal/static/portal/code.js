/* The one-time code pages: count the seconds down until a new code may be asked for.
   Without JavaScript the page says the seconds left when it was served, and the server
   refuses a resend asked for too soon. */
(function () {
  var note = document.getElementById("resend-wait");
  var button = document.getElementById("resend");
  if (!note || !button) { return; }
  var left = parseInt(note.getAttribute("data-wait"), 10) || 0;
  if (left <= 0) { return; }
  var text = note.textContent;
  button.disabled = true;
  var timer = setInterval(function () {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      note.hidden = true;
      button.disabled = false;
      return;
    }
    note.textContent = text.replace(/\d+/, String(left));
  }, 1000);
})();
