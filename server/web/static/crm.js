/* CRM console pages: the 360 (consent withdrawal, manager, notes), KPI dashboard with SVG charts and labelled
 * axes, webhook resend (the leads worklist is leads.js).
 * No framework, no CDN: charts are drawn as plain SVG elements. */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const labelsEl = document.getElementById("crm-labels");
  const L = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  const tr = (k, p) => (L[k] || k).replace(/\{(\w+)\}/g, (_, n) => (p && p[n] !== undefined ? p[n] : ""));
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = (tag, attrs, text) => {
    const e = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // --- consent withdrawal ------------------------------------------------------------------
  function initConsent() {
    document.querySelectorAll("[data-withdraw-face]").forEach((b) => b.addEventListener("click", async () => {
      if (!window.confirm(b.textContent)) return;
      await sz.post(`/api/customers/${b.dataset.withdrawFace}/consents`,
                    {kind: "face", granted: false, text_version: "console"});
      window.location.reload();
    }));
  }

  // --- access request: delete the face template -----------------------------------------------
  function initAccessDelete() {
    document.querySelectorAll("[data-access-delete]").forEach((b) => b.addEventListener("click", async () => {
      if (!window.confirm(b.textContent)) return;
      const status = document.querySelector('[data-testid="held-status"]');
      try {
        const r = await sz.post(`/api/customers/${b.dataset.accessDelete}/face-templates`, undefined, "DELETE");
        status.textContent = b.dataset.done.replace("{n}", r.deleted_templates);
        document.querySelector('[data-testid="held-template-count"]').textContent = "0";
        b.remove();
      } catch (e) {
        status.textContent = e.message;
      }
    }));
  }

  // --- KPI dashboard -----------------------------------------------------------------------
  const pct = (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 1000) / 10}%`);

  /* A bar chart with labelled axes: y ticks at 0, half and the top, the axis titles from the page's texts. */
  function bars(target, items, labelOf, valueOf, axes) {
    target.replaceChildren();
    const w = 600, h = 220, left = 52, right = 8, top = 14, bottom = 44;
    const raw = Math.max(0, ...items.map(valueOf));
    const max = axes.pct ? 100 : Math.max(1, raw);
    const plotH = h - top - bottom, bw = (w - left - right) / Math.max(items.length, 1);
    const y = (v) => h - bottom - (plotH * v) / max;
    [0, max / 2, max].forEach((v) => {
      target.appendChild(svg("line", {x1: left, y1: y(v), x2: w - right, y2: y(v), class: "kpi-grid"}));
      target.appendChild(svg("text", {x: left - 4, y: y(v) + 3, class: "kpi-tick", "text-anchor": "end"},
                             axes.pct ? `${Math.round(v)}%` : String(Math.round(v * 10) / 10)));
    });
    items.forEach((it, i) => {
      const v = valueOf(it), bh = (plotH * v) / max, x = left + i * bw;
      const g = svg("g");
      g.appendChild(svg("rect", {x: x + 1, y: h - bottom - bh, width: Math.max(bw - 2, 1), height: bh, class: "kpi-bar"}));
      g.appendChild(svg("title", {}, `${labelOf(it)}: ${axes.pct ? Math.round(v) + "%" : v}`));
      if (items.length <= 16 || i % Math.ceil(items.length / 16) === 0) {
        g.appendChild(svg("text", {x: x + bw / 2, y: h - bottom + 13, class: "kpi-label", "text-anchor": "middle"},
                          labelOf(it)));
      }
      if (items.length <= 12 && v > 0) {
        g.appendChild(svg("text", {x: x + bw / 2, y: h - bottom - bh - 4, class: "kpi-label", "text-anchor": "middle"},
                          axes.pct ? `${Math.round(v)}%` : String(v)));
      }
      target.appendChild(g);
    });
    target.appendChild(svg("line", {x1: left, y1: h - bottom, x2: w - right, y2: h - bottom, class: "kpi-axis"}));
    target.appendChild(svg("line", {x1: left, y1: top, x2: left, y2: h - bottom, class: "kpi-axis"}));
    target.appendChild(svg("text", {x: left + (w - left - right) / 2, y: h - 6, class: "kpi-axis-title",
                                    "text-anchor": "middle", "data-axis": "x"}, tr(axes.x)));
    target.appendChild(svg("text", {x: 12, y: top + plotH / 2, class: "kpi-axis-title", "text-anchor": "middle",
                                    transform: `rotate(-90 12 ${top + plotH / 2})`, "data-axis": "y"}, tr(axes.y)));
  }

  async function loadKpis() {
    const root = document.getElementById("kpi-root");
    const days = Number(document.getElementById("kpi-period").value);
    const to = new Date(), from = new Date(to.getTime() - days * 86400000);
    const q = new URLSearchParams({from: from.toISOString(), to: to.toISOString()});
    const resp = await fetch(`/api/branches/${root.dataset.branch}/kpis?${q}`, {credentials: "same-origin"});
    if (!resp.ok) return;
    const k = await resp.json();
    const set = (name, text) => document.querySelectorAll(`[data-kpi="${name}"]`).forEach((e) => { e.textContent = text; });
    set("visits", String(k.visits));
    set("identification_rate", pct(k.identification_rate));
    set("diversion_rate", pct(k.diversion_rate));
    set("csat", pct(k.satisfaction.csat));
    set("nps", k.satisfaction.nps_answers ? String(k.satisfaction.nps) : "–");
    set("nps_note", k.satisfaction.nps_answers ? "" : tr("kpi.nps_none"));
    set("utilisation", pct(k.utilisation.utilisation));
    set("availability", `${tr("kpi.availability")} ${pct(k.utilisation.availability)}`);
    set("conversion_rate", `${tr("kpi.conversion")} ${pct(k.referrals.conversion_rate)}`);
    set("value", `${tr("kpi.value")} ${k.referrals.value.toLocaleString()}`);
    const hourly = k.bucket === "hour";
    bars(document.getElementById("kpi-arrivals"), k.arrivals,
         (a) => (hourly ? new Date(a.at).getHours() : a.at.slice(5, 10)), (a) => a.visits,
         {x: hourly ? "kpi.axis.hour" : "kpi.axis.day", y: "kpi.axis.visits"});
    const f = k.referrals.funnel;
    bars(document.getElementById("kpi-funnel"), ["created", "accepted", "met", "converted"].map((s) => ({s, n: f[s]})),
         (x) => tr("leads.st." + x.s), (x) => x.n, {x: "kpi.axis.stage", y: "kpi.axis.leads"});
    bars(document.getElementById("kpi-tickets"), Object.entries(k.tickets_by_business).sort((a, b) => b[1] - a[1]),
         (x) => x[0], (x) => x[1], {x: "kpi.axis.business", y: "kpi.axis.tickets"});
    bars(document.getElementById("kpi-csat-device"), Object.entries(k.satisfaction.by_device),
         (x) => x[0], (x) => (x[1] === null ? 0 : x[1] * 100), {x: "kpi.axis.device", y: "kpi.axis.csat", pct: true});
    bars(document.getElementById("kpi-utilisation"), k.utilisation.devices,
         (d) => d.device, (d) => (d.utilisation === null ? 0 : d.utilisation * 100),
         {x: "kpi.axis.device", y: "kpi.axis.utilisation", pct: true});
    const body = document.querySelector("#kpi-staff tbody");
    body.replaceChildren(...k.staff.map((s) => {
      const r = el("tr");
      r.append(el("td", {}, s.name || `#${s.staff_id}`), el("td", {}, `${tr("kpi.made")} ${s.made}`),
               el("td", {}, `${tr("kpi.accepted")} ${s.accepted}`), el("td", {}, `${tr("kpi.converted")} ${s.converted}`),
               el("td", {}, String(s.value)));
      return r;
    }));
  }

  function initKpis() {
    const root = document.getElementById("kpi-root");
    if (!root) return;
    document.getElementById("kpi-period").addEventListener("change", loadKpis);
    loadKpis();
    let pending = null;
    sz.on("crm.lead", () => { clearTimeout(pending); pending = setTimeout(loadKpis, 1000); });
    setInterval(loadKpis, 30000);
  }

  // --- the 360: the customer's manager, notes ---------------------------------------------
  function initProfile() {
    const set = document.getElementById("manager-set");
    if (set) set.addEventListener("click", async () => {
      const pick = document.getElementById("manager-pick");
      try {
        await sz.post(`/api/customers/${pick.dataset.customer}/manager`,
                      {staff_id: pick.value ? Number(pick.value) : null}, "PUT");
        window.location.reload();
      } catch (e) { window.alert(e.message); }
    });
    const form = document.getElementById("note-form");
    if (form) form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await sz.post(`/api/customers/${form.dataset.customer}/notes`, {body: form.elements.body.value});
        window.location.reload();
      } catch (ex) { window.alert(ex.message); }
    });
  }

  // --- webhook deliveries: resend ----------------------------------------------------------
  function initWebhooks() {
    document.querySelectorAll(".wh-table time[datetime]").forEach((t) => {  // shown in the reader's time zone
      t.textContent = new Date(t.getAttribute("datetime")).toLocaleString(document.documentElement.lang);
    });
    document.querySelectorAll("[data-resend]").forEach((b) => b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const d = await sz.post(`/api/webhooks/deliveries/${b.dataset.resend}/resend`);
        const row = b.closest("tr");
        row.dataset.status = d.status;
        row.querySelector(".wh-state").textContent = tr("wh.st." + d.status) || d.status;
        row.querySelector(".wh-attempts").textContent = String(d.attempts);
        b.remove();
      } catch (e) { window.alert(e.message); b.disabled = false; }
    }));
  }

  document.addEventListener("DOMContentLoaded", () => { initConsent(); initAccessDelete(); initProfile(); initWebhooks(); initKpis(); });
})();
