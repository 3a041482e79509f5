// Card faces: the colour or image each face and swatch names (data-colour, data-image), set
// from here because the page's policy allows no inline styles; on the editor the preview
// follows the form as it is typed.
(function () {
  "use strict";

  function paint(element) {
    var image = element.getAttribute("data-image");
    var colour = element.getAttribute("data-colour") || "#3056D3";
    element.style.backgroundColor = colour;
    element.style.backgroundImage = image ? 'url("' + image.replace(/"/g, "") + '")' : "";
  }

  function yuan(text) {
    var value = parseFloat(String(text || "").replace(/[,¥\s]/g, ""));
    return isNaN(value) ? "" : "¥" + value.toFixed(2);
  }

  function follow(form, face) {
    var field = function (name) { return form.querySelector('[name="' + name + '"]'); };
    var text = function (selector, value) {
      var node = face.querySelector(selector);
      if (node) { node.textContent = value; }
    };
    function update() {
      var name = field("name");
      var colour = field("face_colour");
      var fee = field("fee");
      var physical = field("physical");
      var paid = field("paid_days");
      var remove = field("remove_face_image");
      text(".face-name", (name && name.value) || face.getAttribute("data-placeholder") || "");
      if (colour) { face.setAttribute("data-colour", colour.value); }
      if (remove && remove.checked) { face.removeAttribute("data-image"); }
      else if (!face.getAttribute("data-image") && face.getAttribute("data-stored")) {
        face.setAttribute("data-image", face.getAttribute("data-stored"));
      }
      text(".face-fee", fee ? yuan(fee.value) : "");
      var kind = physical && physical.checked ? face.getAttribute("data-physical") : face.getAttribute("data-ecard");
      if (paid && paid.value) { kind += " · " + paid.value + face.getAttribute("data-days"); }
      text(".face-kind", kind);
      paint(face);
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    var upload = field("face_upload");
    if (upload) {
      upload.addEventListener("change", function () {
        var file = upload.files && upload.files[0];
        if (!file || !/^image\/(png|jpeg)$/.test(file.type)) { return; }
        var reader = new FileReader();
        reader.onload = function () {
          face.setAttribute("data-image", reader.result);
          face.setAttribute("data-stored", reader.result);
          update();
        };
        reader.readAsDataURL(file);
      });
    }
    update();
  }

  function start() {
    document.querySelectorAll(".card-face, .face-swatch").forEach(paint);
    var form = document.getElementById("card-product-form");
    var face = document.getElementById("face-preview");
    if (form && face) { follow(form, face); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
