// atomnb executions dashboard: an anywidget ES module (no build step, no CDN).
// Draws a bar chart of recent executions (SVG) and a table with per-shape counts.

const SVG = "http://www.w3.org/2000/svg";

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`;
}

function chart(executions) {
  const width = 560;
  const height = 120;
  const pad = 18;
  const runs = [...executions].reverse(); // oldest left, newest right
  const svg = s("svg", { class: "ad-chart", viewBox: `0 0 ${width} ${height}`, role: "img" });
  const label = s("title");
  label.textContent = "Duration of the recent executions, oldest left; colour by status";
  svg.append(label);
  if (!runs.length) return svg;
  const longest = Math.max(...runs.map((r) => r.duration_s || 0), 0.001);
  const step = (width - 2 * pad) / runs.length;
  const barWidth = Math.max(2, Math.min(28, step * 0.7));
  svg.append(s("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "ad-axis" }));
  runs.forEach((run, i) => {
    const value = run.duration_s || 0;
    const barHeight = Math.max(1, ((height - 2 * pad) * value) / longest);
    const bar = s("rect", {
      x: pad + i * step + (step - barWidth) / 2,
      y: height - pad - barHeight,
      width: barWidth,
      height: barHeight,
      class: `ad-bar ad-${run.status}`,
      "data-id": run.id,
    });
    const tip = s("title");
    tip.textContent = `${run.process} ${run.id}: ${run.status}, ${seconds(run.duration_s)}, ${run.documents_in} in / ${run.documents_out} out`;
    bar.append(tip);
    svg.append(bar);
  });
  const top = s("text", { x: pad, y: pad - 6, class: "ad-label" });
  top.textContent = `longest ${seconds(longest)}`;
  svg.append(top);
  return svg;
}

function shapesTable(run) {
  const most = Math.max(1, ...run.shapes.map((x) => Math.max(x.documents_in, ...Object.values(x.documents_out), 0)));
  return h(
    "table",
    { class: "ad-shapes" },
    h("thead", {}, h("tr", {}, ...["shape", "kind", "in", "out", "errors", "time"].map((t) => h("th", { text: t })))),
    h(
      "tbody",
      {},
      ...run.shapes.map((x) =>
        h(
          "tr",
          { class: x.error ? "ad-failed" : "" },
          h("td", { text: x.name }),
          h("td", { text: x.kind }),
          h("td", {}, h("span", { class: "ad-mini", style: `width:${(40 * x.documents_in) / most}px` }), ` ${x.documents_in}`),
          h("td", { text: Object.entries(x.documents_out).map(([k, v]) => `${k} ${v}`).join(", ") || "–" }),
          h("td", { text: x.errors ? String(x.errors) : "" }),
          h("td", { text: seconds(x.duration_s) }),
        ),
      ),
    ),
  );
}

function render({ model, el }) {
  const root = h("div", { class: "atomnb-dashboard" });
  el.append(root);
  const open = new Set();
  const draw = () => {
    const executions = model.get("executions");
    const title = h("b", { text: model.get("title") || "Executions" });
    const refresh = h("button", { type: "button", class: "ad-refresh", text: "Refresh", onclick: () => model.send({ action: "refresh" }) });
    const status = h("span", { class: "ad-status", role: "status", text: model.get("status") });
    const counts = {};
    for (const run of executions) counts[run.status] = (counts[run.status] || 0) + 1;
    const summary = h("span", { class: "ad-summary", text: Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ") || "no executions yet" });
    const rows = [];
    for (const run of executions) {
      rows.push(
        h(
          "tr",
          {
            class: `ad-run ad-run-${run.status}`,
            "data-id": run.id,
            tabindex: "0",
            onclick: () => {
              open.has(run.id) ? open.delete(run.id) : open.add(run.id);
              draw();
            },
            onkeydown: (event) => {
              if (event.key === "Enter") {
                open.has(run.id) ? open.delete(run.id) : open.add(run.id);
                draw();
              }
            },
          },
          h("td", { text: run.id }),
          h("td", { text: run.process }),
          h("td", {}, h("span", { class: `ad-status-badge ad-${run.status}`, text: run.status })),
          h("td", { text: run.started_at ? run.started_at.replace("T", " ").slice(0, 19) : "" }),
          h("td", { text: seconds(run.duration_s) }),
          h("td", { text: String(run.documents_in) }),
          h("td", { text: String(run.documents_out) }),
          h("td", { text: run.errors ? String(run.errors) : "" }),
        ),
      );
      if (open.has(run.id)) {
        rows.push(h("tr", { class: "ad-detail" }, h("td", { colspan: "8" }, run.error_summary ? h("div", { class: "ad-error", text: run.error_summary }) : null, shapesTable(run))));
      }
    }
    const table = h(
      "table",
      { class: "ad-runs" },
      h("thead", {}, h("tr", {}, ...["execution", "process", "status", "started (UTC)", "duration", "docs in", "docs out", "errors"].map((t) => h("th", { text: t })))),
      h("tbody", {}, ...rows),
    );
    // The atom's report is HTML the kernel built from the atom's API (values escaped there).
    const report = h("div", { class: "ad-report-box" });
    report.innerHTML = model.get("report") || "";
    root.replaceChildren(h("div", { class: "ad-head" }, title, summary, refresh, status), report, chart(executions), table);
  };
  model.on("change:executions change:title change:status change:report", draw);
  draw();
  return () => model.off("change:executions change:title change:status change:report", draw);
}

export default { render };
