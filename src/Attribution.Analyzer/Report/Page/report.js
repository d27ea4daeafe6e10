// The incident page draws itself from the JSON beside this script. Every text from the recorded host (process
// names, command lines, container names, addresses) goes into the page as a text node or an attribute value set
// by setAttribute, never as markup: the names are chosen by whoever ran the process, an attacker perhaps.
"use strict";
(function () {
  const started = performance.now();
  const errors = document.getElementById("report-errors");
  window.addEventListener("error", e => { errors.textContent += "script error: " + e.message + "\n"; });

  const data = JSON.parse(document.getElementById("report-data").textContent);
  const processes = data.processes;
  const column = Object.fromEntries(data.flowColumns.map((name, i) => [name, i]));

  // ---- small helpers -------------------------------------------------------------------------------------------
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {}))
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    for (const child of children) append(node, child);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(c => append(node, c));
    else node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  function svg(tag, attributes) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    return node;
  }
  const count = n => n === null || n === undefined ? "?" : Number(n).toLocaleString("en-US");
  function bytes(n) {
    if (n === null || n === undefined) return "?";
    const units = ["B", "kB", "MB", "GB", "TB"];
    let u = 0, v = n;
    while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
    return (u === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + " " + units[u];
  }
  function utc(ts, withDate) {
    if (ts === null || ts === undefined) return "?";
    const iso = new Date(ts * 1000).toISOString();
    return (withDate ? iso.slice(0, 10) + " " : "") + iso.slice(11, 23) + (withDate ? " UTC" : "");
  }
  function duration(seconds) {
    if (seconds < 1) return (seconds * 1000).toFixed(1) + " ms";
    if (seconds < 120) return seconds.toFixed(seconds < 10 ? 2 : 1) + " s";
    if (seconds < 7200) return (seconds / 60).toFixed(1) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }
  const processLabel = i => i === null || i === undefined ? "" : (processes[i].comm || "?") + " (" + processes[i].pid + ")";
  const leftOutText = (left, what) => left.count > 0 ? count(left.count) + " " + what + " (" + bytes(left.bytes) + ") are not listed here; the database has them all." : "";

  // ---- the recording ---------------------------------------------------------------------------------------------
  function recording() {
    const r = data.recording;
    document.getElementById("title").textContent = "Incident report: " + (r.host || "unknown host");
    document.title = "Incident report: " + (r.host || "unknown host");
    const span = r.firstTs !== null && r.lastTs !== null ? utc(r.firstTs, true) + " to " + utc(r.lastTs, true) + " (" + duration(r.lastTs - r.firstTs) + ")" : "no packets";
    document.getElementById("subtitle").textContent = span;
    const facts = [["Host", r.host], ["Time", span], ["Boot id", r.bootId], ["Capture id", r.captureId], ["Filter", r.filter],
      ["Evidence", r.evidence], ["Snapshots", r.snapshots], ["Traffic", count(data.totals.packets) + " packets, " + bytes(data.totals.bytes) + ", " + count(data.totals.flows) + " flows, " + count(data.totals.processes) + " processes"],
      ["Recorded by", r.recorderVersion ? "attribution " + r.recorderVersion : null], ["Analyzed by", r.analyzerVersion ? "attribution " + r.analyzerVersion + (r.analyzedAt ? ", " + r.analyzedAt : "") : null],
      ["Database", r.database]];
    const dl = document.getElementById("recording-facts");
    for (const [name, value] of facts) if (value) append(dl, [el("dt", null, name), el("dd", null, value)]);
    const rows = r.files.map(f => el("tr", null, el("td", { class: "mono" }, f.path), el("td", null, f.format), el("td", { class: "n" }, bytes(f.size)),
      el("td", { class: "n" }, count(f.packets)), el("td", { class: "n" }, f.kernelDrops === null ? "not recorded" : count(f.kernelDrops)),
      el("td", { class: "mono" }, f.sha256), el("td", { class: f.problem ? "bad" : "good" }, f.problem ? "damaged" + (f.truncatedAt !== null ? " at byte " + count(f.truncatedAt) : "") + ": " + f.problem : "read whole")));
    append(document.getElementById("recording-files"), [
      el("table", null, el("thead", null, el("tr", null, ["file", "format", "size", "packets", "kernel drops", "sha256 when analyzed", "state"].map(h => el("th", null, h)))), el("tbody", null, rows)),
      el("p", { class: "hint" }, "To check that a copy is the file analyzed: ", el("code", null, "sha256sum FILE"), " gives the digest above.")]);
  }

  function health() {
    const list = document.getElementById("health-lines");
    for (const line of data.health) append(list, el("li", { class: line.level }, line.text));
  }

  // ---- timeline: stacked areas in SVG, drawn here (no library: nothing to fetch, nothing to trust) ------------------
  const palette = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#1b7c83", "#bc4c00", "#4d2d00", "#3e4b9e"];
  const series = data.timeline.series;
  const colour = (s, i) => s.label === "other processes" ? "#8c959f" : s.label === "unattributed" ? "#d0d7de" : palette[i % palette.length];
  const bucketCount = series.length ? series[0].bytes.length : 0;
  let view = [0, bucketCount];
  // The drag under way, if any: it may end outside the chart, so the window hears the button's release.
  let drag = null;
  window.addEventListener("mousemove", e => { if (drag) drag.move(drag.pointer(e)); });
  window.addEventListener("mouseup", e => { if (drag) { const d = drag; drag = null; d.end(d.pointer(e)); } });

  function drawTimeline() {
    const box = document.getElementById("timeline-chart");
    box.textContent = "";
    if (bucketCount === 0) { box.textContent = "No traffic to draw."; return; }
    const width = Math.max(400, box.clientWidth || 900), height = 260, left = 70, right = 10, top = 10, bottom = 28;
    const [from, to] = view, n = to - from, perSecond = 1 / data.timeline.bucket;
    const stacked = [], totals = new Array(n).fill(0);
    series.forEach(s => { const row = []; for (let b = 0; b < n; b++) { totals[b] += s.bytes[from + b] * perSecond; row.push(totals[b]); } stacked.push(row); });
    const peak = Math.max(1, ...totals);
    const x = b => left + (b / Math.max(1, n)) * (width - left - right), y = v => top + (1 - v / peak) * (height - top - bottom);
    const chart = svg("svg", { width, height, role: "img", "aria-label": "bytes per second per process" });
    for (let s = series.length - 1; s >= 0; s--) {
      const upper = stacked[s], lower = s > 0 ? stacked[s - 1] : new Array(n).fill(0);
      let d = "M" + x(0) + "," + y(upper[0]);
      for (let b = 0; b < n; b++) d += "L" + x(b) + "," + y(upper[b]) + "L" + x(b + 1) + "," + y(upper[b]);
      for (let b = n - 1; b >= 0; b--) d += "L" + x(b + 1) + "," + y(lower[b]) + "L" + x(b) + "," + y(lower[b]);
      const area = svg("path", { d: d + "Z", fill: colour(series[s], s) });
      const title = svg("title"); title.textContent = series[s].label; area.appendChild(title);
      chart.appendChild(area);
    }
    const axis = svg("g", { class: "axis" });
    for (let i = 0; i <= 4; i++) {
      const v = peak * i / 4, label = svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" });
      label.textContent = bytes(Math.round(v)) + "/s";
      axis.append(svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v) }), label);
    }
    for (let i = 0; i <= 5; i++) {
      const b = Math.round(n * i / 5), label = svg("text", { x: x(b), y: height - 8, "text-anchor": i === 0 ? "start" : i === 5 ? "end" : "middle" });
      label.textContent = utc(data.timeline.start + (from + b) * data.timeline.bucket, false).slice(0, n * data.timeline.bucket < 10 ? 12 : 8);
      axis.appendChild(label);
    }
    chart.appendChild(axis);
    const selection = svg("rect", { class: "selection", y: top, height: height - top - bottom, width: 0, x: 0, visibility: "hidden" });
    chart.appendChild(selection);
    box.appendChild(chart);
    // Drag to zoom: the window chosen becomes the view, and the flows' time filter.
    const bucketAt = px => Math.min(n, Math.max(0, Math.round((px - left) / (width - left - right) * n)));
    const pointer = e => e.clientX - chart.getBoundingClientRect().left;
    chart.addEventListener("mousedown", e => {
      const anchor = pointer(e);
      selection.setAttribute("visibility", "visible");
      drag = {
        move: p => { selection.setAttribute("x", Math.min(anchor, p)); selection.setAttribute("width", Math.abs(p - anchor)); },
        end: p => {
          const a = bucketAt(anchor), b = bucketAt(p);
          if (Math.abs(b - a) >= 1) zoom(from + Math.min(a, b), from + Math.max(a, b));
          else selection.setAttribute("visibility", "hidden");
        },
        pointer,
      };
      e.preventDefault();
    });
    const windowText = document.getElementById("timeline-window");
    windowText.textContent = "Showing " + utc(data.timeline.start + from * data.timeline.bucket, true) + " to " + utc(data.timeline.start + to * data.timeline.bucket, true)
      + "; each step is " + duration(data.timeline.bucket) + ". A packet between two processes of this host counts for both.";
  }

  function zoom(from, to) {
    view = [from, to];
    drawTimeline();
    const form = document.getElementById("flow-filters");
    const full = from === 0 && to === bucketCount;
    form.elements.from.value = full ? "" : utc(data.timeline.start + from * data.timeline.bucket, true);
    form.elements.to.value = full ? "" : utc(data.timeline.start + to * data.timeline.bucket, true);
    flowTable.filter();
  }

  function legend() {
    const list = document.getElementById("timeline-legend");
    series.forEach((s, i) => {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colour(s, i);
      const total = s.bytes.reduce((a, b) => a + b, 0);
      append(list, el("li", null, swatch, s.label, el("span", { class: "quiet" }, " " + bytes(total))));
    });
  }

  // ---- processes as a tree ----------------------------------------------------------------------------------------
  function processTree() {
    const children = processes.map(() => []), roots = [];
    processes.forEach((p, i) => (p.parent === null ? roots : children[p.parent]).push(i));
    const byBytes = (a, b) => processes[b].bytes - processes[a].bytes;
    const note = document.getElementById("processes-note");
    note.textContent = "Each process that sent or received traffic, under the process that started it (greyed: an ancestor without traffic of its own). "
      + (data.fromPacketRows ? "" : "In and out are not told apart: this analysis has no packet rows. ") + leftOutText(data.processesLeftOut, "more processes with traffic");
    function item(i) {
      const p = processes[i];
      const traffic = data.fromPacketRows ? "out " + bytes(p.out) + ", in " + bytes(p.in) : bytes(p.bytes) + " both ways";
      const summary = el("summary", null, el("span", { class: "process-name" + (p.bytes === 0 ? " quiet" : "") }, p.comm || "?"), " ",
        el("span", { class: "quiet" }, "pid " + p.pid), " ", p.bytes > 0 ? traffic : el("span", { class: "quiet" }, "no traffic"),
        p.traced ? el("span", { class: "tag traced" }, "traced") : null, p.container ? el("span", { class: "tag" }, "container " + p.container) : null, p.names.length ? el("span", { class: "tag" }, "also " + p.names.join(", ")) : null);
      const facts = [["command line", p.cmdline], ["executable", p.exe], ["uid", p.uid], ["started", utc(p.start, true)], ["exited", p.exit === null ? null : utc(p.exit, true)],
        ["container", p.container ? p.container + (p.runtime ? " (" + p.runtime + ")" : "") : null], ["flows", p.flows ? count(p.flows) : null]];
      const dl = el("dl", null);
      for (const [name, value] of facts) if (value !== null && value !== undefined && value !== "") append(dl, [el("dt", null, name), el("dd", { class: name === "command line" ? "mono" : null }, value)]);
      const body = el("div", { class: "process-body" }, dl);
      if (p.remotes.length) {
        const header = ["remote address"].concat(data.remoteNames ? ["name"] : [], ["ports", "flows", "bytes"]);
        const rows = p.remotes.map(r => el("tr", null, el("td", { class: "mono" }, r.addr), data.remoteNames ? el("td", null, r.name || "") : null,
          el("td", null, r.ports.join(" ")), el("td", { class: "n" }, count(r.flows)), el("td", { class: "n" }, bytes(r.bytes))));
        append(body, el("table", null, el("thead", null, el("tr", null, header.map(h => el("th", null, h)))), el("tbody", null, rows)));
        if (p.remotesLeftOut) append(body, el("p", { class: "hint" }, count(p.remotesLeftOut) + " more remote addresses"));
      }
      const show = el("button", { type: "button" }, "show its flows");
      show.addEventListener("click", () => { flowTable.showProcess(p.pid); location.hash = "#flows"; });
      append(body, el("p", null, "Its packets as a pcapng: ", el("code", null, p.extract), " ", show));
      const node = el("li", { "data-pid": p.pid, class: p.traced ? "traced" : null }, el("details", null, summary, body));
      if (children[i].length) append(node, el("ul", null, children[i].sort(byBytes).map(item)));
      return node;
    }
    append(document.getElementById("process-tree"), roots.sort(byBytes).map(item));
    if (processes.some(p => p.traced))
      append(note, el("span", null, " ", el("span", { class: "tag traced" }, "traced"), " marks the command `record --` traced and the processes it started; their packets: ",
        el("code", null, data.extractTraced)));
  }

  // ---- flows: filtered, sorted, a page at a time (the DOM holds one page however many flows there are) --------------
  const flowTable = (function () {
    const flows = data.flows, pageSize = 100, form = document.getElementById("flow-filters");
    const headers = [["first packet", f => f[column.first]], ["duration", f => f[column.last] - f[column.first]], ["proto", f => f[column.proto]],
      ["source", f => f[column.src]], ["destination", f => f[column.dst]], ["packets", f => f[column.packets]], ["bytes", f => f[column.bytes]],
      ["source process", f => processLabel(f[column.sproc])], ["destination process", f => processLabel(f[column.dproc])], ["unattributed because", f => f[column.reason] || ""]];
    if (data.remoteNames) headers.splice(5, 0, ["remote name", f => f[column.name] || ""]);
    let matching = flows, sortBy = 0, ascending = true, page = 0;
    const endpoint = (addr, port) => port === null ? addr : (addr.includes(":") ? "[" + addr + "]" : addr) + ":" + port;
    const head = document.querySelector("#flow-table thead tr");
    headers.forEach(([name], i) => {
      const th = el("th", { class: "sortable" + (["duration", "packets", "bytes"].includes(name) ? " n" : "") }, name);
      th.addEventListener("click", () => { ascending = sortBy === i ? !ascending : i !== 1 && i < 5; sortBy = i; sort(); render(); });
      head.appendChild(th);
    });
    for (const proto of [...new Set(flows.map(f => f[column.proto]))].sort()) append(form.elements.proto, el("option", { value: proto }, proto));
    document.getElementById("flows-note").textContent = "Each row is one connection (TCP) or exchange (UDP), source being the end that sent first. "
      + leftOutText(data.flowsLeftOut, "smaller flows") + (data.flowsLeftOut.count > 0 ? " Listed: every process's largest flows first, in turn." : "");

    function parseTime(text) {
      text = text.trim();
      if (!text) return null;
      const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$/.exec(text);
      if (clock && data.recording.firstTs !== null) {
        const day = Math.floor(data.recording.firstTs / 86400) * 86400;
        return day + (+clock[1]) * 3600 + (+clock[2]) * 60 + (+(clock[3] || 0));
      }
      const parsed = Date.parse(text.replace(" UTC", "Z").replace(" ", "T"));
      return isNaN(parsed) ? NaN : parsed / 1000;
    }
    function filter() {
      const f = form.elements, process = f.process.value.trim().toLowerCase(), remote = f.remote.value.trim().toLowerCase();
      const port = f.port.value.trim() === "" ? null : Number(f.port.value), proto = f.proto.value;
      const from = parseTime(f.from.value), to = parseTime(f.to.value);
      f.from.setCustomValidity(Number.isNaN(from) ? "a time: HH:MM:SS or YYYY-MM-DD HH:MM:SS (UTC)" : "");
      f.to.setCustomValidity(Number.isNaN(to) ? "a time: HH:MM:SS or YYYY-MM-DD HH:MM:SS (UTC)" : "");
      matching = flows.filter(row => {
        if (proto && row[column.proto] !== proto) return false;
        if (port !== null && row[column.sport] !== port && row[column.dport] !== port) return false;
        if (from !== null && !Number.isNaN(from) && row[column.last] < from) return false;
        if (to !== null && !Number.isNaN(to) && row[column.first] > to) return false;
        if (process && !(processLabel(row[column.sproc]) + " " + processLabel(row[column.dproc])).toLowerCase().includes(process)) return false;
        if (remote && !(row[column.src] + " " + row[column.dst] + " " + (row[column.name] || "")).toLowerCase().includes(remote)) return false;
        return true;
      });
      page = 0;
      sort();
      render();
    }
    function sort() {
      const key = headers[sortBy][1], sign = ascending ? 1 : -1;
      matching.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * sign; });
    }
    function render() {
      head.querySelectorAll("th").forEach((th, i) => { th.classList.toggle("sorted-up", i === sortBy && ascending); th.classList.toggle("sorted-down", i === sortBy && !ascending); });
      const pages = Math.max(1, Math.ceil(matching.length / pageSize));
      page = Math.min(page, pages - 1);
      const shown = matching.slice(page * pageSize, (page + 1) * pageSize);
      const body = document.querySelector("#flow-table tbody");
      body.textContent = "";
      for (const f of shown) {
        const cells = [utc(f[column.first], true), duration(f[column.last] - f[column.first]), f[column.proto], endpoint(f[column.src], f[column.sport]),
          endpoint(f[column.dst], f[column.dport])];
        if (data.remoteNames) cells.push(f[column.name] || "");
        cells.push(count(f[column.packets]), bytes(f[column.bytes]), processLabel(f[column.sproc]), processLabel(f[column.dproc]), f[column.reason] || "");
        body.appendChild(el("tr", null, cells.map((c, i) => el("td", { class: ["duration", "packets", "bytes"].includes(headers[i][0]) ? "n" : null }, c))));
      }
      document.getElementById("flows-count").textContent = matching.length === 0 ? "No flow matches." :
        "Flows " + count(page * pageSize + 1) + " to " + count(page * pageSize + shown.length) + " of " + count(matching.length) + (matching.length < flows.length ? " matching (of " + count(flows.length) + " listed)" : "") + ".";
      document.getElementById("flows-previous").disabled = page === 0;
      document.getElementById("flows-next").disabled = page >= pages - 1;
    }
    form.addEventListener("input", filter);
    form.addEventListener("reset", () => setTimeout(filter, 0));
    form.addEventListener("submit", e => e.preventDefault());
    document.getElementById("flows-previous").addEventListener("click", () => { page--; render(); });
    document.getElementById("flows-next").addEventListener("click", () => { page++; render(); });
    return { filter, showProcess: pid => { form.elements.process.value = "(" + pid + ")"; filter(); } };
  })();

  // ---- unattributed traffic ----------------------------------------------------------------------------------------
  function unattributed() {
    const total = data.totals.bytes || 1, body = document.querySelector("#unattributed-table tbody");
    for (const u of data.unattributed)
      append(body, el("tr", null, el("td", { class: "mono" }, u.reason), el("td", { class: "sentence" }, u.sentence), el("td", { class: "n" }, count(u.packets)),
        el("td", { class: "n" }, bytes(u.bytes)), el("td", { class: "n" }, (100 * u.bytes / total).toFixed(1) + " %")));
    const note = document.getElementById("unattributed-note");
    if (!data.unattributed.length) {
      note.textContent = "Every packet was attributed to a process.";
      document.getElementById("unattributed-table").hidden = true;
      return;
    }
    note.textContent = "Packets neither of whose ends could be given to a process, by why not" + (data.fromPacketRows ? "." : " (from the flows: this analysis has no packet rows).");
    append(document.getElementById("unattributed"), el("p", null, "Their packets as a pcapng: ", el("code", null, data.extractUnattributed)));
  }

  recording();
  health();
  legend();
  drawTimeline();
  processTree();
  flowTable.filter();
  unattributed();
  document.getElementById("timeline-reset").addEventListener("click", () => zoom(0, bucketCount));
  let resizing = null;
  window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(drawTimeline, 150); });
  document.getElementById("footer").textContent = "Written by attribution report from " + data.recording.database + ". Everything is in this one file: it fetches nothing.";
  // performance.now() counts from the navigation's start: the load (the file read, parsed) and the drawing together.
  document.body.setAttribute("data-load-ms", String(Math.round(performance.now())));
  document.body.setAttribute("data-render-ms", String(Math.round(performance.now() - started)));
  document.body.setAttribute("data-rendered", "yes");
})();
