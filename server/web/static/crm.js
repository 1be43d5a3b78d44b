/* CRM console pages: live lead list with actions, consent withdrawal, KPI dashboard with SVG charts.
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

  // --- leads -------------------------------------------------------------------------------
  const ACTIONS = {created: ["accept", "decline"], accepted: ["meet", "decline"], met: ["convert", "decline"]};

  function actionButtons(row) {
    const cell = row.querySelector(".lead-actions");
    if (!cell) return;
    cell.replaceChildren();
    (ACTIONS[row.dataset.status] || []).forEach((action) => {
      const b = el("button", {type: "button", "data-action": action}, tr("leads." + action));
      b.addEventListener("click", async () => {
        let body;
        if (action === "convert") {
          const product = window.prompt(tr("leads.product"), "wealth");
          if (!product) return;
          body = {product, value: Number(window.prompt(tr("leads.value"), "0")) || 0};
        }
        b.disabled = true;
        try {
          const lead = await sz.post(`/api/referrals/${row.dataset.lead}/${action}`, body);
          updateRow(lead);
        } catch (e) { window.alert(e.message); b.disabled = false; }
      });
      cell.appendChild(b);
    });
  }

  function updateRow(lead) {
    const table = document.getElementById("leads");
    if (!table) return;
    let row = table.querySelector(`tr[data-lead="${lead.id}"]`);
    if (!row) {
      if (table.dataset.filter && table.dataset.filter !== lead.status) return;
      row = el("tr", {"data-lead": lead.id, class: "lead-new"});
      const who = el("td");
      if (lead.customer_id) {
        who.appendChild(el("a", {href: `/customers/${lead.customer_id}`}, lead.masked_name || ""));
        who.appendChild(document.createTextNode(" "));
        who.appendChild(el("span", {class: `tier tier-${lead.tier}`}, lead.tier || ""));
      } else { who.textContent = "—"; }
      row.append(el("td", {}, String(lead.id)), who, el("td", {}, lead.reason), el("td", {}, lead.business || ""),
                 el("td", {class: "lead-status"}), el("td", {}, (lead.sla_due_at || "").slice(11, 16)),
                 el("td", {class: "lead-actions"}));
      table.tBodies[0].prepend(row);
      const empty = document.getElementById("leads-empty");
      if (empty) empty.hidden = true;
    }
    row.dataset.status = lead.status;
    row.querySelector(".lead-status").textContent = lead.status + (lead.escalated_at ? " · " + tr("leads.escalated") : "");
    actionButtons(row);
  }

  function initLeads() {
    const table = document.getElementById("leads");
    if (!table) return;
    table.querySelectorAll("tr[data-lead]").forEach(actionButtons);
    sz.on("crm.lead", (evt) => updateRow(evt.data));
  }

  // --- consent withdrawal ------------------------------------------------------------------
  function initConsent() {
    document.querySelectorAll("[data-withdraw-face]").forEach((b) => b.addEventListener("click", async () => {
      if (!window.confirm(b.textContent)) return;
      await sz.post(`/api/customers/${b.dataset.withdrawFace}/consents`,
                    {kind: "face", granted: false, text_version: "console"});
      window.location.reload();
    }));
  }

  // --- KPI dashboard -----------------------------------------------------------------------
  const pct = (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 1000) / 10}%`);

  function bars(target, items, labelOf, valueOf) {
    target.replaceChildren();
    const w = 600, h = 200, pad = 24, max = Math.max(1, ...items.map(valueOf));
    const bw = (w - pad) / Math.max(items.length, 1);
    items.forEach((it, i) => {
      const v = valueOf(it), bh = ((h - 2 * pad) * v) / max;
      const g = svg("g");
      g.appendChild(svg("rect", {x: pad + i * bw + 1, y: h - pad - bh, width: Math.max(bw - 2, 1), height: bh,
                                 class: "kpi-bar"}));
      g.appendChild(svg("title", {}, `${labelOf(it)}: ${v}`));
      if (items.length <= 12) {
        g.appendChild(svg("text", {x: pad + i * bw + bw / 2, y: h - 6, class: "kpi-label", "text-anchor": "middle"},
                          labelOf(it)));
        g.appendChild(svg("text", {x: pad + i * bw + bw / 2, y: h - pad - bh - 4, class: "kpi-label",
                                   "text-anchor": "middle"}, String(v)));
      }
      target.appendChild(g);
    });
    target.appendChild(svg("line", {x1: pad, y1: h - pad, x2: w, y2: h - pad, class: "kpi-axis"}));
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
    set("csat", `${pct(k.satisfaction.csat)} / ${k.satisfaction.nps === null ? "–" : k.satisfaction.nps}`);
    set("conversion_rate", `${tr("kpi.conversion")} ${pct(k.referrals.conversion_rate)}`);
    set("value", `${tr("kpi.value")} ${k.referrals.value.toLocaleString()}`);
    bars(document.getElementById("kpi-arrivals"), k.arrivals,
         (a) => (k.bucket === "hour" ? a.at.slice(11, 13) : a.at.slice(5, 10)), (a) => a.visits);
    const f = k.referrals.funnel;
    bars(document.getElementById("kpi-funnel"), ["created", "accepted", "met", "converted"].map((s) => ({s, n: f[s]})),
         (x) => tr("leads." + ({created: "new", accepted: "accept", met: "meet", converted: "convert"})[x.s]), (x) => x.n);
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

  document.addEventListener("DOMContentLoaded", () => { initLeads(); initConsent(); initKpis(); });
})();
