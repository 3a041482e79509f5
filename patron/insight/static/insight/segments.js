// The segment filter builder (F-29): rows of field / operator / value inside "all of" / "any of"
// groups, written to the hidden #segment-filter as the JSON of API.md §8 on every change; htmx
// then posts it (debounced) for the live count and sample. Money is typed in yuan and sent in
// fen. No inline script: the field catalogue comes from a json_script element.
(function () {
  "use strict";

  var catalogue, byName, words;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function option(value, label, selected) {
    var node = el("option", { value: value, text: label });
    if (selected) node.selected = true;
    return node;
  }

  function fieldSelect(current) {
    var select = el("select", { class: "seg-field", "aria-label": "field" });
    var groups = {};
    catalogue.fields.forEach(function (field) {
      if (!groups[field.group]) {
        groups[field.group] = el("optgroup", { label: field.group });
        select.appendChild(groups[field.group]);
      }
      groups[field.group].appendChild(option(field.name, field.label, field.name === current));
    });
    return select;
  }

  function opSelect(field, current) {
    var select = el("select", { class: "seg-op", "aria-label": "operator" });
    field.ops.forEach(function (op) {
      select.appendChild(option(op, catalogue.ops[op], op === current));
    });
    return select;
  }

  // One input for one scalar of the field's kind, holding `value` (in fen for money).
  function scalarInput(field, value) {
    var input;
    if (field.kind === "bool") {
      input = el("select", { class: "seg-value" });
      input.appendChild(option("true", words.yes, value !== false));
      input.appendChild(option("false", words.no, value === false));
      return input;
    }
    if (field.choices) {
      input = el("select", { class: "seg-value" });
      field.choices.forEach(function (choice) {
        input.appendChild(option(choice[0], choice[1], String(value) === choice[0]));
      });
      return input;
    }
    var type = { date: "date", int: "number", yuan: "number", share: "number", number: "number" };
    input = el("input", { class: "seg-value", type: type[field.kind] || "text" });
    if (field.kind === "yuan") input.setAttribute("step", "0.01");
    if (field.kind === "share") { input.setAttribute("step", "0.05"); input.setAttribute("min", "0"); input.setAttribute("max", "1"); }
    if (value !== undefined && value !== null) {
      input.value = field.kind === "yuan" ? (value / 100).toString() : String(value);
    }
    return input;
  }

  function listInput(field, values) {
    values = values || [];
    if (field.choices) {
      var select = el("select", { class: "seg-value", multiple: "multiple", size: String(Math.min(4, field.choices.length)) });
      field.choices.forEach(function (choice) {
        var selected = values.map(String).indexOf(choice[0]) >= 0;
        select.appendChild(option(choice[0], choice[1], selected));
      });
      return select;
    }
    var shown = values.map(function (v) { return field.kind === "yuan" ? v / 100 : v; });
    return el("input", { class: "seg-value seg-list", type: "text", placeholder: words.list_hint, value: shown.join(", ") });
  }

  function valueBox(field, op, value) {
    var box = el("span", { class: "seg-values" });
    if (op === "between") {
      var pair = Array.isArray(value) ? value : [];
      box.appendChild(scalarInput(field, pair[0]));
      box.appendChild(el("span", { class: "muted", text: words.and }));
      box.appendChild(scalarInput(field, pair[1]));
    } else if (op === "in" || op === "not_in") {
      box.appendChild(listInput(field, Array.isArray(value) ? value : []));
    } else {
      box.appendChild(scalarInput(field, Array.isArray(value) ? undefined : value));
    }
    return box;
  }

  function scalarOf(field, raw) {
    if (field.kind === "bool") return raw === "true";
    if (field.kind === "yuan") return raw === "" ? null : Math.round(parseFloat(raw) * 100);
    if (field.kind === "int") return raw === "" ? null : parseInt(raw, 10);
    if (field.kind === "share" || field.kind === "number") return raw === "" ? null : parseFloat(raw);
    return raw.trim();
  }

  function rowValue(row) {
    var field = byName[row.querySelector(".seg-field").value];
    var op = row.querySelector(".seg-op").value;
    var inputs = row.querySelectorAll(".seg-value");
    if (op === "between") return [scalarOf(field, inputs[0].value), scalarOf(field, inputs[1].value)];
    if (op === "in" || op === "not_in") {
      var input = inputs[0];
      if (input.multiple) {
        return Array.prototype.filter.call(input.options, function (o) { return o.selected; })
          .map(function (o) { return scalarOf(field, o.value); });
      }
      return input.value.split(/[,，]/).map(function (part) { return part.trim(); })
        .filter(function (part) { return part !== ""; })
        .map(function (part) { return scalarOf(field, part); });
    }
    return scalarOf(field, inputs[0].value);
  }

  function conditionRow(condition) {
    var field = byName[condition.field] || catalogue.fields[0];
    var op = field.ops.indexOf(condition.op) >= 0 ? condition.op : field.ops[0];
    var row = el("div", { class: "seg-row" });
    var fields = fieldSelect(field.name);
    var ops = opSelect(field, op);
    var values = valueBox(field, op, condition.value);
    var remove = el("button", { type: "button", class: "btn btn-small btn-ghost seg-remove", text: "×", title: words.remove, "aria-label": words.remove });
    row.appendChild(fields);
    row.appendChild(ops);
    row.appendChild(values);
    row.appendChild(remove);
    fields.addEventListener("change", function () {
      var fresh = conditionRow({ field: fields.value });
      row.replaceWith(fresh);
      changed();
    });
    var shape = function (name) { return name === "between" || name === "in" || name === "not_in" ? name : "one"; };
    var lastOp = op;
    ops.addEventListener("change", function () {
      // A single value survives a change between single-value operators (eq -> gte).
      var keep;
      if (shape(lastOp) === "one" && shape(ops.value) === "one") {
        var input = row.querySelector(".seg-value");
        keep = input.value === "" ? undefined : scalarOf(field, input.value);
      }
      lastOp = ops.value;
      row.replaceChild(valueBox(field, ops.value, keep), row.querySelector(".seg-values"));
      changed();
    });
    remove.addEventListener("click", function () { row.remove(); changed(); });
    return row;
  }

  function groupBox(node, nested) {
    var kind = node && node.any ? "any" : "all";
    var children = (node && node[kind]) || [];
    var box = el("div", { class: nested ? "seg-group seg-nested" : "seg-group" });
    var head = el("div", { class: "seg-group-head" });
    var mode = el("select", { class: "seg-mode", "aria-label": "group" });
    mode.appendChild(option("all", words.all, kind === "all"));
    mode.appendChild(option("any", words.any, kind === "any"));
    head.appendChild(el("span", { class: "muted", text: words.match }));
    head.appendChild(mode);
    var rows = el("div", { class: "seg-rows" });
    var addRow = el("button", { type: "button", class: "btn btn-small seg-add", text: words.add_condition });
    var foot = el("div", { class: "seg-group-foot" }, [addRow]);
    if (!nested) {
      var addGroup = el("button", { type: "button", class: "btn btn-small seg-add-group", text: words.add_group });
      addGroup.addEventListener("click", function () {
        rows.appendChild(groupBox({ any: [{ field: catalogue.fields[0].name }] }, true));
        changed();
      });
      foot.appendChild(addGroup);
    } else {
      var removeGroup = el("button", { type: "button", class: "btn btn-small btn-ghost seg-remove-group", text: words.remove });
      removeGroup.addEventListener("click", function () { box.remove(); changed(); });
      head.appendChild(removeGroup);
    }
    children.forEach(function (child) {
      rows.appendChild(child.all || child.any ? groupBox(child, true) : conditionRow(child));
    });
    addRow.addEventListener("click", function () {
      rows.appendChild(conditionRow({ field: catalogue.fields[0].name }));
      changed();
    });
    mode.addEventListener("change", changed);
    box.appendChild(head);
    box.appendChild(rows);
    box.appendChild(foot);
    return box;
  }

  function groupValue(box) {
    var kind = box.querySelector(".seg-mode").value;
    var items = [];
    Array.prototype.forEach.call(box.querySelector(".seg-rows").children, function (child) {
      if (child.classList.contains("seg-group")) items.push(groupValue(child));
      else items.push({
        field: child.querySelector(".seg-field").value,
        op: child.querySelector(".seg-op").value,
        value: rowValue(child)
      });
    });
    var node = {};
    node[kind] = items;
    return node;
  }

  var builder, hidden;

  function changed() {
    hidden.value = JSON.stringify(groupValue(builder.firstChild));
    builder.dispatchEvent(new CustomEvent("filter-changed", { bubbles: true }));
  }

  function start() {
    builder = document.getElementById("segment-builder");
    hidden = document.getElementById("segment-filter");
    if (!builder || !hidden) return;
    catalogue = JSON.parse(document.getElementById("segment-catalogue").textContent);
    words = catalogue.words;
    byName = {};
    catalogue.fields.forEach(function (field) { byName[field.name] = field; });
    var node;
    try { node = JSON.parse(hidden.value); } catch (e) { node = { all: [] }; }
    builder.appendChild(groupBox(node, false));
    builder.addEventListener("input", changed);
    builder.addEventListener("change", function (event) {
      if (event.target.classList.contains("seg-value")) changed();
    });
    document.getElementById("segment-form").addEventListener("submit", function () {
      hidden.value = JSON.stringify(groupValue(builder.firstChild));
    });
    changed();
  }

  // After htmx has set up the builder's trigger (it starts on DOMContentLoaded too, and its
  // script runs first), so the first count is asked for at once.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
