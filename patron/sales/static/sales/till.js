// The cashier screen's keyboard and its conversation with the server.
//
// The basket lives in the page (#till-form) and, after every key, in the cashier's session on
// the server (a reload shows it again). Every change posts the whole form with one
// operation (`op`) to the server, which prices it (never this script) and answers with the
// re-rendered #till-state. Requests go one at a time, in order: a barcode scanner types a
// whole SKU and Enter in a few milliseconds, and each scan must see the basket the previous
// one produced. The scan input sits outside the re-rendered part, so keys typed while a
// request is under way are never lost.
(function () {
  "use strict";

  var form = document.getElementById("till-form");
  if (!form) return;
  var state = document.getElementById("till-state");
  var scan = document.getElementById("scan-input");
  var status = document.getElementById("till-status");
  var queue = Promise.resolve();
  var pending = 0;
  var leaving = false;
  var committing = false;
  var clearArmedUntil = 0;
  var FOCUSABLE = "input:not([type=hidden]), select, textarea, button, a[href]";

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function focusOn(id) {
    var element = byId(id);
    if (!element || element.disabled) return false;
    element.focus();
    if (element.select && element.type !== "password" && element.tagName === "INPUT") element.select();
    return true;
  }

  // --- the selected line: "−", "+", Change and Remove act on it ---------------------------

  function lineRows() {
    return state.querySelectorAll("tr.till-line");
  }

  function selectedIndex() {
    var input = byId("selected-line");
    var value = input ? parseInt(input.value, 10) : NaN;
    return isNaN(value) ? null : value;
  }

  function select(index) {
    var rows = lineRows();
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    var input = byId("selected-line");
    if (input) input.value = String(index);
    var name = "";
    Array.prototype.forEach.call(rows, function (row) {
      var on = row.getAttribute("data-index") === String(index);
      row.classList.toggle("is-selected", on);
      row.setAttribute("aria-selected", on ? "true" : "false");
      if (on) {
        var shown = row.querySelector(".till-line-name");
        name = shown ? shown.textContent : "";
        row.scrollIntoView({ block: "nearest" });
      }
    });
    state.querySelectorAll("[data-line-op]").forEach(function (button) {
      button.value = button.getAttribute("data-line-op") + ":" + index;
      button.disabled = false;
    });
    var label = byId("selected-name");
    if (label) label.textContent = name;
  }

  function onSelected(op) {
    var index = selectedIndex();
    if (index === null || !lineRows().length) return false;
    send(op + ":" + index);
    return true;
  }

  function say(text) {
    status.textContent = text || "";
  }

  function swap(html) {
    var active = document.activeElement;
    var keep = null;
    // A field the cashier is typing in keeps what was typed but not yet sent.
    if (active && state.contains(active) && active.id && "defaultValue" in active &&
        active.value !== active.defaultValue) {
      keep = { id: active.id, value: active.value };
    }
    var inside = active && state.contains(active);
    var activeId = inside ? active.id : null;
    var activeIndex = inside ? Array.prototype.indexOf.call(state.querySelectorAll(FOCUSABLE), active) : -1;
    state.innerHTML = html;
    var said = state.querySelector("[data-till-consumed]");
    var consumed = said ? said.getAttribute("data-till-consumed").split(" ") : [];
    // What was typed comes back unless the server used it up (a member found, a code added).
    if (keep && byId(keep.id) && consumed.indexOf(keep.id) < 0) byId(keep.id).value = keep.value;
    var chosen = state.querySelector("tr.till-line.is-selected");
    if (chosen) chosen.scrollIntoView({ block: "nearest" });
    var hint = state.querySelector("[data-till-focus]");
    var wanted = hint ? hint.getAttribute("data-till-focus") : "";
    if (document.activeElement === scan && (!wanted || wanted === "scan-input")) return;
    if (wanted && focusOn(wanted)) return;
    if (activeId && focusOn(activeId)) return;
    // The same place in the re-rendered part (e.g. the button Tab had moved to).
    var again = activeIndex >= 0 ? state.querySelectorAll(FOCUSABLE)[activeIndex] : null;
    if (again && !again.disabled) {
      again.focus();
      return;
    }
    if (document.activeElement !== scan) focusOn("scan-input");
  }

  function post(op, extra, url) {
    if (leaving) return Promise.resolve();
    var data = new FormData(form);
    data.set("op", op);
    Object.keys(extra || {}).forEach(function (name) { data.set(name, extra[name]); });
    pending += 1;
    form.classList.add("is-busy");
    return fetch(url || form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "HX-Request": "true" }
    }).then(function (response) {
      var next = response.headers.get("HX-Redirect");
      if (next) {
        leaving = true;
        window.location.assign(next);
        return;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text().then(function (html) {
        say("");
        swap(html);
      });
    }).catch(function () {
      say(form.getAttribute("data-offline"));
    }).then(function () {
      pending -= 1;
      if (!pending) form.classList.remove("is-busy");
    });
  }

  // Operations run strictly one after another; each reads the form when its turn comes.
  function send(op, extra, url) {
    queue = queue.then(function () { return post(op, extra, url); });
    return queue;
  }

  function scanNow() {
    var typed = scan.value.trim();
    scan.value = "";
    if (typed) send("scan", { scan: typed });
  }

  function commit() {
    var button = byId("confirm-button");
    if (committing || !button || button.disabled) return;
    committing = true;
    send("commit", {}, form.getAttribute("data-commit-url")).then(function () {
      committing = false;
    });
  }

  function hasBasket() {
    return Boolean(state.querySelector("input[name=line_sku], input[name=member], input[name=code]"));
  }

  function escape(target) {
    if (byId("item-form")) {
      send("cancel_item");
      return;
    }
    if (target && target.hasAttribute && target.hasAttribute("data-esc-clear") && target.value) {
      target.value = "";
      return;
    }
    if (target !== scan) {
      focusOn("scan-input");
      return;
    }
    if (scan.value) {
      scan.value = "";
      return;
    }
    if (!hasBasket()) return;
    // A whole sale is thrown away only on a second Esc: one stray key must not lose it.
    if (Date.now() > clearArmedUntil) {
      clearArmedUntil = Date.now() + 3000;
      say(form.getAttribute("data-clear-hint"));
      status.classList.add("till-clear-hint");
      return;
    }
    clearArmedUntil = 0;
    status.classList.remove("till-clear-hint");
    send("clear");
  }

  function lineKey(event) {
    var line = event.target.getAttribute && event.target.getAttribute("data-line");
    if (line === null || line === undefined) return false;
    if (event.key === "+" || event.key === "=" || event.key === "Add") {
      send("more:" + line);
    } else if (event.key === "-" || event.key === "Subtract") {
      send("less:" + line);
    } else if (event.key === "Delete") {
      send("remove:" + line);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  // In the empty scan box "+", "−", Del, ↑ and ↓ act on the selected line; as soon as something
  // is typed they are text again (a SKU may hold a "-").
  function scanKey(event) {
    if (event.target !== scan || scan.value !== "") return false;
    var index = selectedIndex();
    if (event.key === "+" || event.key === "Add") {
      onSelected("more");
    } else if (event.key === "-" || event.key === "Subtract") {
      onSelected("less");
    } else if (event.key === "Delete") {
      onSelected("remove");
    } else if (event.key === "ArrowUp" && index !== null) {
      select(index - 1);
    } else if (event.key === "ArrowDown" && index !== null) {
      select(index + 1);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  var SHORTCUTS = { F2: "member-input", F4: "code-input", F9: "points-input" };

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (SHORTCUTS[event.key]) {
      event.preventDefault();
      focusOn(SHORTCUTS[event.key]);
      return;
    }
    if (event.key === "F8") {
      event.preventDefault();
      commit();
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      escape(target);
      return;
    }
    if (!form.contains(target)) return;
    if (scanKey(event)) return;
    if (lineKey(event)) return;
    if (event.key !== "Enter" || event.isComposing) return;
    var op = target.getAttribute && target.getAttribute("data-enter");
    if (!op) return;
    event.preventDefault();
    if (op === "scan") scanNow();
    else if (op === "commit") commit();
    else send(op);
  });

  // Buttons post their operation through the same queue (without script they submit the
  // form, and the server answers with the whole page).
  form.addEventListener("click", function (event) {
    var row = event.target.closest("tr.till-line");
    if (row && state.contains(row)) {
      select(parseInt(row.getAttribute("data-index"), 10));
      // A tap on the line (not on its quantity) gives the scanner its box back.
      if (!event.target.closest("input")) focusOn("scan-input");
      return;
    }
    var button = event.target.closest("button[name=op]");
    if (!button || !form.contains(button)) return;
    event.preventDefault();
    if (button.value === "commit") commit();
    else if (button.value === "scan") scanNow();
    else send(button.value);
    // Touch keys ("+", "−", Undo …) leave the scanner's box ready for the next item.
    if (button.hasAttribute("data-line-op") || button.id === "undo-button") focusOn("scan-input");
  });

  // Typing a new quantity, points or amount and leaving the field re-prices.
  form.addEventListener("change", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-requote")) send("quote");
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });

  if (document.activeElement === document.body) focusOn("scan-input");
})();
