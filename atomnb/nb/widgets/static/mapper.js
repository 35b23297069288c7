// atomnb visual mapper: an anywidget ES module, shipped as is (no build step).
//
// The view only draws the state the kernel sends (profile trees, links, preview)
// and sends intents back ({action: "link", source, target} ...). All map logic
// lives in Python (atomnb.nb.widgets.mapping_ops), so the browser and Python can
// never disagree about what a link means.

const SVG = "http://www.w3.org/2000/svg";

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function short(value, size = 40) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > size ? text.slice(0, size - 1) + "…" : text;
}

function parentOf(path) {
  const i = path.lastIndexOf(".");
  return i < 0 ? null : path.slice(0, i);
}

// -- argument fields, typed by the function's signature ------------------------------------
// A "value" argument takes the kind of what the step works on (link.value_inputs).
function kind(arg, link, index) {
  return arg.input === "value" ? (link.value_inputs || [])[index] || "text" : arg.input || "text";
}

function shown(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function argInput(arg, id, current, type, error) {
  const base = { id, class: error ? "am-arg am-arg-invalid" : "am-arg", "data-arg": arg.name, "data-kind": type, "aria-invalid": error ? "true" : "false" };
  if (type === "boolean") return h("input", { ...base, type: "checkbox", checked: current ?? arg.default ?? false });
  if (type === "choice")
    return h(
      "select",
      base,
      h("option", { value: "", text: arg.required ? "choose…" : `${arg.default} (default)` }),
      ...arg.choices.map((c) => h("option", { value: c, text: c, selected: current === c })),
    );
  const types = { number: "number", integer: "number", date: "date", datetime: "datetime-local" };
  const attrs = { ...base, type: types[type] || "text", value: error ? shown(error.raw) : shown(current) };
  if (type === "number") attrs.step = "any";
  if (type === "integer") attrs.step = "1";
  attrs.placeholder = arg.required ? "required" : shown(arg.default);
  return h("input", attrs);
}

function render({ model, el }) {
  const ui = {
    collapsed: { source: new Set(), target: new Set() },
    query: { source: "", target: "" },
    selectedSource: null,
    selectedTarget: null,
    focus: { source: null, target: null },
    paletteOpen: false,
    paletteQuery: "",
    dragging: null,
  };

  const send = (content) => model.send(content);
  // data-lm-suppress-shortcuts: JupyterLab's own keys (L, Enter, arrows) stay out of the mapper.
  const root = h("div", {
    class: "atomnb-mapper",
    tabindex: "-1",
    "data-lm-suppress-shortcuts": "true",
    "data-p-suppress-shortcuts": "true",
  });
  el.append(root);

  // -- layout ------------------------------------------------------------------------
  const title = h("span", { class: "am-title" });
  const status = h("span", { class: "am-status", role: "status", "aria-live": "polite" });
  const saveButton = h("button", {
    class: "am-save",
    type: "button",
    text: "Save",
    title: "Write the map component (components/maps/<name>.yaml)",
    onclick: () => send({ action: "save" }),
  });
  const caseButton = h("button", {
    class: "am-save-case",
    type: "button",
    text: "Save as test case",
    title: "Save the map, and the sample with its mapped output as a test case (tests/atomnb/)",
    onclick: () => send({ action: "save_case" }),
  });
  const linkButton = h("button", {
    class: "am-link-button",
    type: "button",
    text: "Link (L)",
    title: "Link the selected source element to the selected target element",
    onclick: () => linkSelected(),
  });
  const toolbar = h(
    "div",
    { class: "am-toolbar" },
    title,
    linkButton,
    saveButton,
    caseButton,
    status,
  );
  const help = h("div", {
    class: "am-help",
    text:
      "Drag a source element onto a target element to link them — or select a source, " +
      "select a target and press Enter or L. Click a link to add functions.",
  });
  const panes = { source: makePane("source"), target: makePane("target") };
  const lines = document.createElementNS(SVG, "svg");
  lines.setAttribute("class", "am-lines");
  lines.setAttribute("aria-hidden", "true");
  const body = h("div", { class: "am-body" }, panes.source.box, lines, panes.target.box);
  const unmappedNote = h("div", { class: "am-unmapped-note", role: "note" });
  const editor = h("section", { class: "am-editor", "aria-label": "link editor" });
  const previewBox = h("section", { class: "am-preview", "aria-label": "preview" });
  root.append(toolbar, help, body, unmappedNote, editor, previewBox);

  function makePane(side) {
    const search = h("input", {
      class: "am-search",
      type: "search",
      placeholder: `Search ${side}…`,
      "aria-label": `search the ${side} profile`,
      oninput: (event) => {
        ui.query[side] = event.target.value.trim().toLowerCase();
        drawTree(side);
      },
    });
    const collapseAll = h("button", {
      class: "am-collapse-all",
      type: "button",
      text: "−",
      title: "Collapse all",
      onclick: () => {
        for (const row of model.get(`${side}_tree`)) if (row.record) ui.collapsed[side].add(row.path);
        drawTree(side);
      },
    });
    const expandAll = h("button", {
      class: "am-expand-all",
      type: "button",
      text: "+",
      title: "Expand all",
      onclick: () => {
        ui.collapsed[side].clear();
        drawTree(side);
      },
    });
    const heading = h("div", { class: "am-pane-head" }, h("b", { class: "am-pane-name" }), search, collapseAll, expandAll);
    const tree = h("div", {
      class: `am-tree am-tree-${side}`,
      role: "tree",
      "aria-label": `${side} profile`,
      "aria-multiselectable": "false",
    });
    tree.addEventListener("scroll", () => drawLines());
    tree.addEventListener("keydown", (event) => onTreeKey(side, event));
    tree.addEventListener("focusin", (event) => {
      const row = event.target.closest(".am-row");
      if (row && row.dataset.path) ui.focus[side] = row.dataset.path;
    });
    const box = h("div", { class: `am-pane am-${side}`, "data-side": side }, heading, tree);
    return { box, tree, heading, rows: new Map() };
  }

  // -- trees ---------------------------------------------------------------------------
  function linkedTargets() {
    const out = new Map();
    for (const link of model.get("links")) out.set(link.target, link);
    return out;
  }

  function linkedSources() {
    const out = new Set();
    for (const link of model.get("links")) for (const s of link.sources) out.add(s);
    return out;
  }

  function visibleRows(side) {
    const rows = model.get(`${side}_tree`);
    const query = ui.query[side];
    if (query) {
      const keep = new Set();
      for (const row of rows) {
        if (row.path.toLowerCase().includes(query)) {
          let p = row.path;
          while (p) {
            keep.add(p);
            p = parentOf(p);
          }
        }
      }
      return rows.filter((row) => keep.has(row.path));
    }
    const hidden = (path) => {
      let p = parentOf(path);
      while (p) {
        if (ui.collapsed[side].has(p)) return true;
        p = parentOf(p);
      }
      return false;
    };
    return rows.filter((row) => !hidden(row.path));
  }

  function drawTree(side) {
    const pane = panes[side];
    const rows = visibleRows(side);
    const targets = linkedTargets();
    const sources = linkedSources();
    const unmapped = new Set(model.get("unmapped"));
    const problems = new Map();
    for (const p of (model.get("preview").problems || [])) if (p.target) problems.set(p.target, p.message);
    const errorTargets = new Set();
    for (const row of (model.get("preview").rows || [])) for (const e of row.errors) if (e.target) errorTargets.add(e.target);
    const selected = side === "source" ? ui.selectedSource : ui.selectedTarget;
    if (!ui.focus[side] || !rows.some((r) => r.path === ui.focus[side])) ui.focus[side] = rows.length ? rows[0].path : null;
    pane.rows = new Map();
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const link = side === "target" ? targets.get(row.path) : null;
      const isLinked = side === "target" ? Boolean(link) : sources.has(row.path);
      const classes = ["am-row"];
      if (isLinked) classes.push("am-linked");
      if (row.record) classes.push("am-record");
      if (side === "target" && unmapped.has(row.path)) classes.push("am-unmapped");
      if (side === "target" && (problems.has(row.path) || errorTargets.has(row.path))) classes.push("am-has-error");
      if (selected === row.path) classes.push("am-selected");
      if (side === "target" && model.get("selected") === row.path) classes.push("am-active");
      const toggle = row.record
        ? h("span", {
            class: "am-toggle",
            text: ui.collapsed[side].has(row.path) && !ui.query[side] ? "▸" : "▾",
            onclick: (event) => {
              event.stopPropagation();
              toggleCollapse(side, row.path);
            },
          })
        : h("span", { class: "am-toggle am-leaf", text: "" });
      const el = h(
        "div",
        {
          class: classes.join(" "),
          role: "treeitem",
          tabindex: ui.focus[side] === row.path ? "0" : "-1",
          "aria-level": row.depth + 1,
          "aria-selected": selected === row.path ? "true" : "false",
          "aria-expanded": row.record ? String(!ui.collapsed[side].has(row.path)) : null,
          "data-path": row.path,
          "data-side": side,
          draggable: side === "source" ? "true" : null,
          title: [row.path, row.description, problems.get(row.path)].filter(Boolean).join("\n"),
          style: `padding-left: ${0.3 + row.depth * 1.1}em`,
          onclick: () => onRowClick(side, row),
        },
        toggle,
        h("span", { class: "am-name", text: row.name }),
        row.repeating ? h("span", { class: "am-badge am-repeat", text: "[]", title: "repeats" }) : null,
        h("span", { class: "am-type", text: row.type }),
        row.mandatory ? h("span", { class: "am-mandatory", text: "*", title: "mandatory" }) : null,
        side === "target" && unmapped.has(row.path)
          ? h("span", { class: "am-badge am-warn", text: "unmapped", title: "mandatory and not mapped" })
          : null,
        link && link.steps.length
          ? h("span", { class: "am-badge am-fn", text: link.steps.map((s) => s.fn).join(" → ") })
          : null,
        row.sample !== null && row.sample !== undefined && !row.record
          ? h("span", { class: "am-sample", text: short(row.sample, 24) })
          : null,
      );
      if (side === "source") {
        el.addEventListener("dragstart", (event) => {
          ui.dragging = row.path;
          event.dataTransfer.setData("text/plain", row.path);
          event.dataTransfer.effectAllowed = "link";
        });
        el.addEventListener("dragend", () => {
          ui.dragging = null;
        });
      } else {
        el.addEventListener("dragover", (event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = "link";
          el.classList.add("am-drop");
        });
        el.addEventListener("dragleave", () => el.classList.remove("am-drop"));
        el.addEventListener("drop", (event) => {
          event.preventDefault();
          el.classList.remove("am-drop");
          const source = event.dataTransfer.getData("text/plain") || ui.dragging;
          if (source) send({ action: "link", source, target: row.path });
          ui.dragging = null;
        });
      }
      pane.rows.set(row.path, el);
      fragment.append(el);
    }
    pane.tree.replaceChildren(fragment);
    if (!rows.length) pane.tree.append(h("div", { class: "am-empty", text: "no element matches" }));
    pane.heading.querySelector(".am-pane-name").textContent = model.get(`${side}_name`);
    drawLines();
  }

  function toggleCollapse(side, path) {
    if (ui.collapsed[side].has(path)) ui.collapsed[side].delete(path);
    else ui.collapsed[side].add(path);
    drawTree(side);
  }

  function onRowClick(side, row) {
    ui.focus[side] = row.path;
    if (side === "source") {
      ui.selectedSource = ui.selectedSource === row.path ? null : row.path;
      drawTree("source");
    } else {
      ui.selectedTarget = row.path;
      if (linkedTargets().has(row.path)) selectLink(row.path);
      drawTree("target");
    }
    focusRow(side);
  }

  function linkSelected() {
    if (ui.selectedSource && ui.selectedTarget) {
      send({ action: "link", source: ui.selectedSource, target: ui.selectedTarget });
      ui.selectedSource = null;
      return true;
    }
    setStatus({ level: "error", text: "select a source element and a target element first" });
    return false;
  }

  function focusRow(side) {
    const el = panes[side].rows.get(ui.focus[side]);
    if (el) {
      for (const other of panes[side].rows.values()) other.setAttribute("tabindex", "-1");
      el.setAttribute("tabindex", "0");
      el.focus({ preventScroll: false });
    }
  }

  function onTreeKey(side, event) {
    const focused = event.target.closest && event.target.closest(".am-row");
    if (focused && focused.dataset.path) ui.focus[side] = focused.dataset.path;
    const rows = visibleRows(side);
    const index = rows.findIndex((r) => r.path === ui.focus[side]);
    const row = rows[index];
    const move = (delta) => {
      const next = rows[Math.max(0, Math.min(rows.length - 1, index + delta))];
      if (next) {
        ui.focus[side] = next.path;
        focusRow(side);
      }
    };
    switch (event.key) {
      case "ArrowDown":
        move(1);
        break;
      case "ArrowUp":
        move(-1);
        break;
      case "Home":
        move(-rows.length);
        break;
      case "End":
        move(rows.length);
        break;
      case "ArrowRight":
        if (row && row.record && ui.collapsed[side].has(row.path)) toggleCollapse(side, row.path);
        else move(1);
        focusRow(side);
        break;
      case "ArrowLeft":
        if (row && row.record && !ui.collapsed[side].has(row.path)) toggleCollapse(side, row.path);
        else if (row && parentOf(row.path)) {
          ui.focus[side] = parentOf(row.path);
          drawTree(side);
        }
        focusRow(side);
        break;
      case " ":
        if (!row) return;
        if (side === "source") ui.selectedSource = ui.selectedSource === row.path ? null : row.path;
        else ui.selectedTarget = row.path;
        drawTree(side);
        focusRow(side);
        break;
      case "Enter":
        if (!row) return;
        if (side === "source") {
          ui.selectedSource = row.path;
          drawTree("source");
          focusRow("source");
        } else {
          ui.selectedTarget = row.path;
          if (ui.selectedSource) linkSelected();
          else if (linkedTargets().has(row.path)) selectLink(row.path);
          drawTree("target");
          focusRow("target");
        }
        break;
      case "l":
      case "L":
        linkSelected();
        break;
      case "Delete":
        if (side === "target" && row && linkedTargets().has(row.path)) send({ action: "unlink", target: row.path });
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  }

  // -- links drawn between the trees ---------------------------------------------------
  function anchor(side, path) {
    const pane = panes[side];
    let p = path;
    while (p && !pane.rows.has(p)) p = parentOf(p);
    if (!p) return null;
    const row = pane.rows.get(p).getBoundingClientRect();
    const tree = pane.tree.getBoundingClientRect();
    const y = Math.min(Math.max(row.top + row.height / 2, tree.top), tree.bottom);
    return y;
  }

  function drawLines() {
    const box = lines.getBoundingClientRect();
    lines.replaceChildren();
    if (!box.width) return;
    lines.setAttribute("viewBox", `0 0 ${box.width} ${box.height}`);
    const active = model.get("selected");
    for (const link of model.get("links")) {
      const ty = anchor("target", link.target);
      if (ty === null) continue;
      for (const source of link.sources) {
        const sy = anchor("source", source);
        if (sy === null) continue;
        const y1 = sy - box.top;
        const y2 = ty - box.top;
        const w = box.width;
        const path = document.createElementNS(SVG, "path");
        path.setAttribute("d", `M0,${y1} C${w / 2},${y1} ${w / 2},${y2} ${w},${y2}`);
        const classes = ["am-line"];
        if (link.mode === "item by item") classes.push("am-line-item");
        if (link.target === active) classes.push("am-line-active");
        path.setAttribute("class", classes.join(" "));
        path.dataset.target = link.target;
        path.addEventListener("click", () => selectLink(link.target));
        const hint = document.createElementNS(SVG, "title");
        hint.textContent = `${source} → ${link.target}`;
        path.append(hint);
        lines.append(path);
      }
    }
  }

  // -- the link editor -----------------------------------------------------------------
  function selectLink(target) {
    model.set("selected", target);
    model.save_changes();
    ui.selectedTarget = target;
  }

  function functionsByName() {
    const out = new Map();
    for (const fn of model.get("functions")) out.set(fn.name, fn);
    return out;
  }

  function drawEditor() {
    const target = model.get("selected");
    const link = model.get("links").find((l) => l.target === target);
    editor.replaceChildren();
    if (!link) {
      editor.hidden = true;
      return;
    }
    editor.hidden = false;
    const fns = functionsByName();
    const preview = model.get("preview");
    const problems = (preview.problems || []).filter((p) => p.target === target);
    const docErrors = (preview.rows || []).flatMap((r) => r.errors.filter((e) => e.target === target));
    editor.append(
      h(
        "div",
        { class: "am-editor-head" },
        h("b", { class: "am-editor-target", text: link.target }),
        " ← ",
        ...link.sources.map((s) =>
          h(
            "span",
            { class: "am-source-chip", "data-source": s },
            s,
            link.sources.length > 1
              ? h("button", {
                  type: "button",
                  class: "am-chip-remove",
                  "aria-label": `remove source ${s}`,
                  text: "×",
                  onclick: () => send({ action: "unlink", target, source: s }),
                })
              : null,
          ),
        ),
        h("span", { class: "am-mode", text: link.mode }),
        h("button", {
          type: "button",
          class: "am-unlink",
          text: "Remove link",
          onclick: () => send({ action: "unlink", target }),
        }),
        h("button", {
          type: "button",
          class: "am-close",
          text: "Close",
          onclick: () => {
            model.set("selected", "");
            model.save_changes();
          },
        }),
      ),
    );
    editor.append(hierarchy(link));
    if (link.mode !== "item by item") {
      const list = h("ol", { class: "am-steps", "aria-label": "functions" });
      link.steps.forEach((step, index) => list.append(stepItem(link, step, index, fns.get(step.fn))));
      editor.append(list);
      editor.append(
        h("button", {
          type: "button",
          class: "am-add-function",
          text: ui.paletteOpen ? "Hide functions" : "Add function…",
          "aria-expanded": String(ui.paletteOpen),
          onclick: () => {
            ui.paletteOpen = !ui.paletteOpen;
            drawEditor();
          },
        }),
      );
      if (ui.paletteOpen) editor.append(palette(link));
    }
    for (const p of problems)
      editor.append(h("div", { class: "am-problem", text: p.message + (p.hint ? ` — ${p.hint}` : "") }));
    if (docErrors.length)
      editor.append(
        h("div", { class: "am-problem", text: `${docErrors.length} sample document(s) fail here: ${docErrors[0].message}` }),
      );
  }

  function hierarchy(link) {
    const box = h("div", { class: "am-hierarchy" });
    const fanOut = model.get("fan_out");
    const sourceRows = new Map(model.get("source_tree").map((r) => [r.path, r]));
    const repeating = (path) => {
      const out = [];
      let p = path;
      while (p) {
        const row = sourceRows.get(p);
        if (row && row.repeating) out.unshift(p);
        p = parentOf(p);
      }
      return out;
    };
    if (link.mode === "item by item") {
      box.append(`One ${link.target} item per ${link.sources[0]} item; link their fields.`);
      return box;
    }
    if (link.mode === "repeating" || link.mode === "aggregate" || link.mode === "fan out") {
      const outer = repeating(link.sources[0])[0];
      const aggregates = model.get("functions").filter((f) => f.kind === "aggregate");
      box.append(
        h("span", { text: `Repeating ${outer || "element"}: ` }),
        h(
          "select",
          {
            class: "am-aggregate",
            "aria-label": "aggregate the repetitions",
            onchange: (event) => {
              if (event.target.value) send({ action: "add_step", target: link.target, fn: event.target.value });
            },
          },
          h("option", { value: "", text: "aggregate with…" }),
          ...aggregates.map((f) => h("option", { value: f.name, text: f.name, title: f.description })),
        ),
        " or ",
        fanOut === outer
          ? h("button", {
              type: "button",
              class: "am-fan-out",
              text: `stop fanning out over ${outer}`,
              onclick: () => send({ action: "fan_out", element: null }),
            })
          : outer && !outer.includes(".")
            ? h("button", {
                type: "button",
                class: "am-fan-out",
                text: `one document per ${outer}`,
                onclick: () => send({ action: "fan_out", element: outer }),
              })
            : h("span", { text: "map it to a repeating target" }),
      );
      return box;
    }
    return box;
  }

  function stepItem(link, step, index, fn) {
    const args = { ...(step.args || {}) };
    const form = h("div", { class: "am-args" });
    const commit = () => send({ action: "set_args", target: link.target, index, args });
    const tables = model.get("tables");
    for (const arg of fn ? fn.args : []) {
      const id = `am-${link.target}-${index}-${arg.name}`.replace(/[^A-Za-z0-9_-]/g, "_");
      let input;
      const current = args[arg.name];
      const error = (model.get("errors") || {})[`${link.target}/${index}/${arg.name}`];
      if (step.fn === "lookup" && arg.name === "table") {
        input = h(
          "select",
          { id, class: "am-arg", "data-arg": arg.name },
          h("option", { value: "", text: "choose a table…" }),
          ...Object.keys(tables).map((t) => h("option", { value: t, text: t, selected: current === t })),
        );
      } else if (step.fn === "lookup" && (arg.name === "key_column" || arg.name === "value_column") && tables[args.table]) {
        input = h(
          "select",
          { id, class: "am-arg", "data-arg": arg.name },
          h("option", { value: "", text: `${arg.default} (default)` }),
          ...tables[args.table].map((c) => h("option", { value: c, text: c, selected: current === c })),
        );
      } else {
        input = argInput(arg, id, current, kind(arg, link, index), error);
      }
      input.addEventListener("change", () => {
        // the kernel converts the text by the function's declared type
        args[arg.name] = input.type === "checkbox" ? input.checked : input.value;
        if (args[arg.name] === "") delete args[arg.name];
        commit();
      });
      form.append(
        h(
          "label",
          { for: id, class: "am-arg-label", title: arg.description },
          `${arg.name}${arg.required ? " *" : ""}`,
        ),
        input,
      );
      if (error) form.append(h("span", { class: "am-arg-error", role: "alert", "data-arg": arg.name, text: error.message }));
    }
    return h(
      "li",
      { class: "am-step", "data-fn": step.fn },
      h(
        "div",
        { class: "am-step-head" },
        h("b", { text: step.fn }),
        fn ? h("span", { class: "am-step-doc", text: fn.description }) : null,
        h("button", { type: "button", class: "am-step-up", "aria-label": "move up", text: "↑", onclick: () => send({ action: "move_step", target: link.target, index, delta: -1 }) }),
        h("button", { type: "button", class: "am-step-down", "aria-label": "move down", text: "↓", onclick: () => send({ action: "move_step", target: link.target, index, delta: 1 }) }),
        h("button", { type: "button", class: "am-step-remove", "aria-label": `remove ${step.fn}`, text: "×", onclick: () => send({ action: "remove_step", target: link.target, index }) }),
      ),
      form,
    );
  }


  function palette(link) {
    const box = h("div", { class: "am-palette", role: "dialog", "aria-label": "function library" });
    const search = h("input", {
      class: "am-palette-search",
      type: "search",
      placeholder: "Search functions…",
      "aria-label": "search functions",
      value: ui.paletteQuery,
    });
    const list = h("div", { class: "am-palette-list" });
    const fill = () => {
      const q = ui.paletteQuery.toLowerCase();
      const groups = new Map();
      for (const fn of model.get("functions")) {
        const text = `${fn.name} ${fn.group} ${fn.description}`.toLowerCase();
        if (q && !text.includes(q)) continue;
        if (!groups.has(fn.group)) groups.set(fn.group, []);
        groups.get(fn.group).push(fn);
      }
      list.replaceChildren();
      for (const [group, fns] of groups) {
        const details = h("details", { class: "am-group", open: Boolean(q) || groups.size <= 2, "data-group": group }, h("summary", { text: `${group} (${fns.length})` }));
        for (const fn of fns) {
          const inputs = fn.inputs.map((i) => `${i.name}${i.variadic ? "…" : ""}${i.optional ? "?" : ""}: ${i.type}`).join(", ");
          const args = fn.args.map((a) => `${a.name}${a.required ? "" : "="}${a.required ? "" : short(a.default, 12)}`).join(", ");
          details.append(
            h(
              "button",
              {
                type: "button",
                class: "am-function",
                "data-fn": fn.name,
                title: fn.args.map((a) => `${a.name}: ${a.description}`).join("\n"),
                onclick: () => {
                  send({ action: "add_step", target: link.target, fn: fn.name });
                  ui.paletteOpen = false;
                },
              },
              h("b", { text: fn.name }),
              h("code", { text: `(${inputs})${args ? ` [${args}]` : ""} → ${fn.output}` }),
              h("span", { class: "am-function-doc", text: fn.description }),
            ),
          );
        }
        list.append(details);
      }
      if (!groups.size) list.append(h("div", { class: "am-empty", text: "no function matches" }));
    };
    search.addEventListener("input", () => {
      ui.paletteQuery = search.value;
      fill();
    });
    fill();
    box.append(search, list);
    queueMicrotask(() => search.focus());
    return box;
  }

  // -- preview -------------------------------------------------------------------------
  function drawPreview() {
    const preview = model.get("preview");
    previewBox.replaceChildren();
    const columns = preview.columns || [];
    const head = h(
      "div",
      { class: "am-preview-head" },
      h("b", { text: "Preview" }),
      preview.empty
        ? ` ${preview.documents || 0} of ${preview.total || 0} sample document(s) — nothing linked yet: drag a source element onto a target element`
        : ` ${preview.documents || 0} of ${preview.total || 0} sample document(s) → ${preview.mapped || 0} mapped, ${preview.rejected || 0} with errors`,
    );
    previewBox.append(head);
    for (const p of preview.problems || []) {
      previewBox.append(
        h("div", {
          class: "am-problem",
          "data-target": p.target || "",
          text: `${p.target ? p.target + ": " : ""}${p.message}${p.hint ? " — " + p.hint : ""}`,
          onclick: () => p.target && selectLink(p.target),
        }),
      );
    }
    if (!(preview.rows || []).length) {
      previewBox.append(h("div", { class: "am-empty", text: "no sample documents (pass documents= to see the mapped output)" }));
      return;
    }
    const table = h("table", { class: "am-preview-table" });
    table.append(h("thead", {}, h("tr", {}, h("th", { text: "#" }), ...columns.map((c) => h("th", { text: c })), h("th", { text: "errors" }))));
    const tbody = h("tbody");
    for (const row of preview.rows) {
      const failing = new Set(row.errors.map((e) => (e.target || "").split(".")[0]));
      const outputs = row.outputs.length ? row.outputs : [null];
      outputs.forEach((out, n) => {
        const tr = h("tr", { class: row.errors.length ? "am-row-error" : "", "data-index": row.index });
        tr.append(h("td", { text: n ? "" : String(row.index) }));
        for (const c of columns) {
          const value = out ? out[c] : null;
          tr.append(h("td", { class: failing.has(c) ? "am-cell-error" : "", "data-column": c, title: out ? short(value, 400) : "", text: out ? short(value) : "" }));
        }
        const errors = h("td", { class: "am-errors" });
        if (!n)
          for (const e of row.errors)
            errors.append(
              h(
                "div",
                { class: "am-doc-error", onclick: () => e.target && selectLink(e.target) },
                `${e.rule}: ${e.message}`,
                ...Object.entries(e.values || {}).map(([path, v]) =>
                  h("span", { class: "am-source-value", "data-source": path, title: short(v, 400), text: ` — ${path} = ${short(JSON.stringify(v ?? null))}` }),
                ),
              ),
            );
        tr.append(errors);
        tbody.append(tr);
      });
    }
    table.append(tbody);
    previewBox.append(table);
  }

  // -- header, status, unmapped ----------------------------------------------------------
  function drawHeader() {
    const parts = [
      "Map ",
      h("b", { class: "am-map-name", text: model.get("map_name") }),
      `: ${model.get("source_name")} → ${model.get("target_name")} `,
    ];
    if (model.get("fan_out")) parts.push(h("span", { class: "am-badge", text: `one document per ${model.get("fan_out")}` }));
    title.replaceChildren(...parts);
    const unmapped = model.get("unmapped");
    unmappedNote.textContent = unmapped.length
      ? `Mandatory target element(s) not mapped: ${unmapped.join(", ")}`
      : "";
    unmappedNote.hidden = !unmapped.length;
  }

  function setStatus(value) {
    status.textContent = value && value.text ? value.text : "";
    status.className = `am-status am-status-${value && ["error", "warning"].includes(value.level) ? value.level : "info"}`;
  }

  function drawAll() {
    drawHeader();
    drawTree("source");
    drawTree("target");
    drawEditor();
    drawPreview();
    setStatus(model.get("status"));
  }

  const onTrees = () => {
    drawHeader();
    drawTree("source");
    drawTree("target");
    drawEditor();
  };
  const onPreview = () => {
    drawPreview();
    drawTree("target");
    drawEditor();
  };
  const onSelected = () => {
    drawTree("target");
    drawEditor();
  };
  const onStatus = () => setStatus(model.get("status"));
  const onKey = (event) => {
    if ((event.key === "l" || event.key === "L") && !["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName)) {
      if (linkSelected()) event.preventDefault();
    }
  };
  root.addEventListener("keydown", onKey);
  const events = [
    ["change:links change:unmapped change:source_tree change:target_tree change:map_name change:fan_out", onTrees],
    ["change:preview", onPreview],
    ["change:selected", onSelected],
    ["change:status", onStatus],
    ["change:functions change:tables change:errors", drawEditor],
  ];
  for (const [name, fn] of events) model.on(name, fn);
  const resize = new ResizeObserver(() => drawLines());
  resize.observe(body);
  drawAll();
  return () => {
    for (const [name, fn] of events) model.off(name, fn);
    resize.disconnect();
  };
}

export default { render };
