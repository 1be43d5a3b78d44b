/* Fleet console (server/devices): fleet map, alarms, work orders, device page, SVG charts. Live via sz.on(). */
(function () {
  "use strict";
  const body = document.body;
  const mode = body.dataset.fleet;
  if (!mode) return;
  const branch = body.dataset.branch;
  const devicePk = body.dataset.device;
  const L = JSON.parse((document.getElementById("fleet-labels") || {}).textContent || "{}");
  const t = (k) => L[k] || k;
  const locale = document.documentElement.lang;
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
    });
    kids.flat().forEach((c) => e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c))));
    return e;
  };
  const get = async (url) => { const r = await fetch(url, {credentials: "same-origin"}); if (!r.ok) throw new Error(r.status); return r.json(); };
  const time = (iso) => iso ? new Date(iso).toLocaleString(locale) : "—";
  const pct = (x) => x == null ? "—" : Math.round(x * 100) + "%";
  const mins = (s) => s == null ? "—" : Math.round(s / 60) + " min";
  const presence = (d) => t("fleet.presence." + d.presence + (d.presence === "offline" && d.offline_reason ? "." + d.offline_reason : ""));

  function tileClass(d) {
    if (d.presence === "maintenance") return "maint";
    if (!d.online) return d.presence === "never_seen" ? "never" : "off";
    if (d.worst_severity === "CRITICAL" || d.worst_severity === "MAJOR" || !d.available) return "bad";
    if (d.worst_severity) return "warn";
    return "ok";
  }

  function renderTiles(devices) {
    document.querySelectorAll(".fleet-zone .fleet-tiles").forEach((z) => z.replaceChildren());
    devices.forEach((d) => {
      const zone = document.querySelector(`.fleet-zone[data-zone="${CSS.escape(d.zone || "-")}"] .fleet-tiles`)
        || document.querySelector('.fleet-zone[data-zone="-"] .fleet-tiles');
      const alarms = d.alarms.map((a) => t("alarm.type." + a.type)).join(", ");
      zone.append(el("a", {class: "fleet-tile " + tileClass(d), href: "/devices/" + d.id, "data-testid": "tile-" + d.device,
                           "data-state": tileClass(d)},
        el("strong", {}, d.device), el("span", {}, presence(d)),
        el("small", {}, alarms || (d.available ? "" : t("fleet.unavailable")))));
    });
    document.querySelectorAll('.fleet-zone[data-zone="-"]').forEach((z) => { z.hidden = !z.querySelector(".fleet-tile"); });
  }

  function renderAlarms(alarms) {
    const list = document.getElementById("fleet-alarms");
    if (!list) return;
    list.replaceChildren();
    if (!alarms.length) { list.append(el("li", {class: "muted"}, t("fleet.no_alarms"))); return; }
    alarms.forEach((a) => {
      const li = el("li", {class: "sev-" + a.severity.toLowerCase(), "data-testid": "alarm-" + a.id, "data-status": a.status},
        el("span", {class: "sev"}, a.severity), " ",
        el("a", {href: a.device_pk ? "/devices/" + a.device_pk : "#"}, a.device), " · ",
        el("strong", {}, t("alarm.type." + a.type)), " · ", el("span", {class: "st"}, t("alarm.status." + a.status)),
        el("small", {}, " " + time(a.started_at) + (a.acked_by ? " · ✔ " + a.acked_by : "") +
          (a.escalation_level ? " · ⇧" + a.escalation_level : "")));
      (a.comments || []).forEach((c) => li.append(el("div", {class: "comment"}, c.by + ": " + c.text)));
      const form = el("form", {class: "fleet-inline"});
      const input = el("input", {name: "comment", placeholder: t("fleet.comment"), maxLength: 500});
      const ack = el("button", {type: "submit", "data-testid": "ack-" + a.id}, a.status.endsWith("UNACK") ? t("fleet.ack") : t("fleet.comment"));
      form.append(input, ack);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const comment = input.value.trim();
        if (a.status.endsWith("UNACK")) await sz.post(`/api/alarms/${a.id}/ack`, comment ? {comment} : {});
        else if (comment) await sz.post(`/api/alarms/${a.id}/comments`, {text: comment});
        refresh();
      });
      li.append(form);
      list.append(li);
    });
  }

  function renderOrders(orders) {
    const list = document.getElementById("fleet-orders");
    if (!list) return;
    list.replaceChildren();
    if (!orders.length) { list.append(el("li", {class: "muted"}, t("fleet.no_orders"))); return; }
    const next = {open: ["assign", "arrive", "resolve"], assigned: ["arrive", "resolve"], on_site: ["resolve"], resolved: ["close"]};
    orders.forEach((o) => {
      const li = el("li", {"data-testid": "order-" + o.id, "data-status": o.status},
        el("a", {href: o.device_pk ? "/devices/" + o.device_pk : "#"}, o.device), " · ",
        el("strong", {}, t("wo.task." + o.task)), " · ", t("wo.status." + o.status),
        el("small", {}, " " + time(o.opened_at) + (o.assignee ? " · " + (o.assigned_at ? "" : t("fleet.on_call") + " ") + o.assignee : "") +
          (o.due_at && !o.resolved_at ? " · " + t("fleet.due") + " " + time(o.due_at) : "") +
          (o.to_fix_s != null ? " · " + Math.round(o.to_fix_s / 60) + " min" : "")));
      if (o.breached_at) li.append(el("span", {class: "overdue", "data-testid": `order-${o.id}-overdue`}, " ⏰ " + t("fleet.overdue")));
      const actions = el("span", {class: "fleet-actions"});
      (next[o.status] || []).forEach((action) => {
        const b = el("button", {type: "button", "data-testid": `order-${o.id}-${action}`}, t("fleet." + action));
        b.addEventListener("click", async () => { await sz.post(`/api/work-orders/${o.id}/${action}`, {}); refresh(); });
        actions.append(b);
      });
      li.append(actions);
      list.append(li);
    });
  }

  /* A grouped bar chart in SVG: availability and utilisation per item (0..100 %). */
  function barChart(items, label) {
    const box = document.getElementById("fleet-chart");
    if (!box) return;
    box.replaceChildren();
    const rows = items.filter((i) => i.availability != null || i.utilisation != null);
    if (!rows.length) { box.append(el("p", {class: "muted"}, t("fleet.no_data"))); return; }
    const ns = "http://www.w3.org/2000/svg";
    const w = Math.max(320, rows.length * 34 + 40), h = 180, base = 150;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("class", "fleet-svg");
    svg.setAttribute("role", "img");
    const add = (tag, attrs, text) => { const n = document.createElementNS(ns, tag); Object.entries(attrs).forEach(([k, v]) => n.setAttribute(k, v)); if (text) n.textContent = text; svg.append(n); return n; };
    [0, 0.5, 1].forEach((g) => { add("line", {x1: 30, x2: w, y1: base - g * 130, y2: base - g * 130, class: "grid"}); add("text", {x: 0, y: base - g * 130 + 4, class: "axis"}, Math.round(g * 100) + "%"); });
    rows.forEach((r, i) => {
      const x = 36 + i * 34;
      const a = r.availability || 0, u = r.utilisation || 0;
      add("rect", {x, y: base - a * 130, width: 13, height: a * 130, class: "bar-a"}).append(Object.assign(document.createElementNS(ns, "title"), {textContent: `${label(r)} ${t("fleet.availability")} ${pct(r.availability)}`}));
      add("rect", {x: x + 14, y: base - u * 130, width: 13, height: u * 130, class: "bar-u"}).append(Object.assign(document.createElementNS(ns, "title"), {textContent: `${label(r)} ${t("fleet.utilisation")} ${pct(r.utilisation)}`}));
      add("text", {x: x + 13, y: base + 16, class: "axis", "text-anchor": "middle"}, label(r));
    });
    box.append(svg, el("p", {class: "legend"}, el("span", {class: "key-a"}, "■ " + t("fleet.availability")), " ", el("span", {class: "key-u"}, "■ " + t("fleet.utilisation"))));
  }

  async function refreshBranch() {
    const [devices, alarms, orders] = await Promise.all([
      get(`/api/branches/${branch}/devices`), get(`/api/branches/${branch}/alarms?status=active`),
      get(`/api/work-orders?branch=${branch}&status=all&limit=30`)]);
    renderTiles(devices);
    renderAlarms(alarms);
    renderOrders(orders.filter((o) => o.status !== "closed").concat(orders.filter((o) => o.status === "closed").slice(0, 5)));
  }

  async function refreshChartBranch() {
    const u = await get(`/api/branches/${branch}/utilisation`);
    barChart(u.devices, (r) => r.name);
    const table = document.getElementById("fleet-repairs");
    if (!table) return;
    table.replaceChildren(el("tr", {}, el("th", {}, ""), el("th", {}, ""), el("th", {}, t("fleet.orders_n")),
      el("th", {}, t("fleet.to_ack")), el("th", {}, t("fleet.to_arrive")), el("th", {}, t("fleet.to_fix")), el("th", {}, t("fleet.overdue"))),
      ...u.repairs.map((r) => el("tr", {}, el("td", {}, t("wo.team." + r.team)), el("td", {}, t("wo.task." + r.task)), el("td", {}, r.orders),
        el("td", {}, mins(r.to_acknowledge_s)), el("td", {}, mins(r.to_arrive_s)), el("td", {}, mins(r.to_fix_s)), el("td", {}, r.overdue))));
    if (!u.repairs.length) table.append(el("tr", {}, el("td", {class: "muted"}, t("fleet.no_orders"))));
  }

  async function refreshDevice() {
    const [d, timeline, cmds] = await Promise.all([get(`/api/devices/${devicePk}`), get(`/api/devices/${devicePk}/timeline?limit=100`),
      get(`/api/devices/${devicePk}/commands`)]);
    const facts = document.getElementById("device-facts");
    facts.replaceChildren(
      el("dt", {}, t("fleet.last_seen")), el("dd", {"data-testid": "device-presence", "data-presence": d.presence},
        presence(d) + " · " + time(d.last_seen_at)),
      el("dt", {}, t("fleet.model")), el("dd", {}, [d.model, d.sw].filter(Boolean).join(" / ") || "—"),
      el("dt", {}, t("fleet.availability")), el("dd", {}, d.available ? "✔" : t("fleet.unavailable")));
    if (d.paper_low_at) facts.append(el("dt", {}, t("fleet.paper_low_eta")), el("dd", {"data-testid": "paper-low-at"}, time(d.paper_low_at)));
    if (d.paper_runs_out_at) facts.append(el("dt", {}, t("fleet.paper_eta")), el("dd", {}, time(d.paper_runs_out_at)));
    if (d.paper_roll) facts.append(el("dt", {}, t("fleet.roll")), el("dd", {}, `${d.paper_roll.to_low == null ? "—" : Math.round(d.paper_roll.to_low)} / ${Math.round(d.paper_roll.to_out)} ` +
      (d.paper_roll.learned ? `(${d.paper_roll.rolls})` : t("fleet.roll_default")) + ` · ${d.receipts_since_refill}`));
    const names = [...new Set([...d.components.filter((c) => c !== "kiosk" && c !== "display"), ...Object.keys(d.status)])];
    document.getElementById("device-status").replaceChildren(...names.map((c) => {
      const s = d.status[c];
      return el("tr", {"data-testid": "component-" + c}, el("th", {}, t("component." + c)), el("td", {}, s
        ? Object.entries(s).filter(([k]) => k !== "at").map(([k, v]) => `${k}: ${v}`).join(" · ") + " · " + time(s.at)
        : t("fleet.no_report")));
    }));
    const active = await get(`/api/branches/${d.branch_id}/alarms?status=active`);
    renderAlarms(active.filter((a) => a.device === d.device));
    document.getElementById("device-timeline").replaceChildren(...timeline.map((e) =>
      el("li", {class: "tl-" + e.kind}, el("time", {}, time(e.at)), " ", el("strong", {}, e.kind + " · " + e.what), " ",
        el("small", {}, Object.entries(e.detail || {}).filter(([, v]) => v != null && v !== "").map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ")))));
    document.getElementById("device-commands").replaceChildren(...cmds.map((c) =>
      el("li", {"data-testid": "command-" + c.command_id, "data-status": c.status}, el("strong", {}, c.name), " · ", c.status,
        el("small", {}, " " + time(c.created_at) + (c.detail ? " · " + c.detail : "")))));
  }

  async function refreshChartDevice() {
    const from = new Date(Date.now() - 48 * 3600 * 1000).toISOString();
    const u = await get(`/api/devices/${devicePk}/utilisation?from=${encodeURIComponent(from)}`);
    barChart(u.hours.filter((h) => h.open_s > 0), (r) => new Date(r.hour).getHours() + "h");
  }

  let timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(() => (mode === "branch" ? refreshBranch() : refreshDevice()).catch((e) => console.warn(e)), 150);
  }

  document.addEventListener("DOMContentLoaded", () => {
    ["fleet.device", "fleet.alarm", "fleet.work_order", "fleet.command"].forEach((type) => sz.on(type, (evt) => {
      if (!evt.branch_id || evt.branch_id === branch) refresh();
    }));
    const cmd = document.getElementById("command-form");
    if (cmd) cmd.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(cmd);
      await sz.post(`/api/devices/${devicePk}/commands`, {name: f.get("name"), ttl_s: Number(f.get("ttl_s"))});
      refresh();
    });
    const maint = document.getElementById("maintenance-form");
    if (maint) maint.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await sz.post(`/api/devices/${devicePk}/maintenance`, {minutes: Number(new FormData(maint).get("minutes"))});
      refresh();
    });
    refresh();
    (mode === "branch" ? refreshChartBranch() : refreshChartDevice()).catch((e) => console.warn(e));
    setInterval(() => (mode === "branch" ? refreshChartBranch() : refreshChartDevice()).catch(() => {}), 60000);
  });
})();
