/* Teller workstation: renders GET /api/me/counter, re-reads it on every `queue.changed` SSE event, reads the
 * served customer (GET /api/tickets/{id}/customer, audited) once per called ticket, and sends one-click actions
 * with sz.post. Keys: N calls the next customer, F finishes. No framework, no CDN. */
(function () {
  "use strict";
  const error = document.getElementById("w-error");
  function fail(e) { error.textContent = e.message; error.hidden = false; }
  function ok() { error.hidden = true; error.textContent = ""; }

  document.querySelectorAll("[data-sign-in]").forEach((b) => b.addEventListener("click", async () => {
    try { await sz.post(b.dataset.signIn); window.location.reload(); } catch (e) { fail(e); }
  }));

  const app = document.getElementById("counter-app");
  if (!app) return;
  const branch = app.dataset.branch, counter = app.dataset.counter;
  const zh = app.dataset.locale === "zh-CN";
  const T = JSON.parse(app.dataset.t);
  const $ = (id) => document.getElementById(id);
  let state = null, customerOf = null, loading = false, again = false;

  const el = sz.el;
  const txt = (o) => (o && typeof o === "object") ? (zh ? o.zh : o.en) : (o || "");
  const fill = (s, vals) => Object.entries(vals).reduce((acc, [k, v]) => acc.replace(`{${k}}`, v), s);
  const interest = (code) => {
    const b = state && state.businesses.find((x) => x.code === code);
    return b ? txt(b.name) : (code || "");
  };
  const counterUrl = (action) => `/api/branches/${branch}/counters/${counter}/${action}`;

  async function act(url, body) {
    ok();
    try { const r = await sz.post(url, body); await load(); return r; } catch (e) { fail(e); await load(); return null; }
  }

  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const r = await fetch("/api/me/counter", {credentials: "same-origin"});
      if (r.ok) {
        state = await r.json();
        if (!state.signed_in) { window.location.reload(); return; }
        render();
      }
    } finally {
      loading = false;
      if (again) { again = false; load(); }
    }
  }

  async function loadCustomer(force) {
    const cur = state && state.current;
    const box = $("w-customer");
    if (!cur) { customerOf = null; box.replaceChildren(); return; }
    if (customerOf === cur.id && !force) return;
    customerOf = cur.id;
    const r = await fetch(`/api/tickets/${cur.id}/customer`, {credentials: "same-origin"});
    if (!r.ok || customerOf !== cur.id) return;
    const data = await r.json();
    const c = data.customer;
    if (!c) { box.replaceChildren(el("p", {class: "muted"}, data.identified ? T.elsewhere : T.anonymous)); return; }
    box.replaceChildren(
      el("p", {class: "wname", "data-testid": "w-masked-name"}, c.masked_name),
      el("p", {}, `${T.tier}: `, el("strong", {"data-testid": "w-tier", "data-tier": c.tier}, T.tiers[c.tier] || c.tier),
        c.elderly ? ` · ${T.elderly}` : ""),
      el("p", {"data-testid": "w-tags"}, `${T.tags}: `, c.tags.length ? c.tags.map((g) => el("span", {class: "wtag"}, g)) : "–"),
      el("h3", {}, T.leads),
      c.leads.length
        ? el("ul", {class: "qalerts", "data-testid": "w-leads"}, c.leads.map((l) =>
            el("li", {"data-testid": `w-lead-${l.id}`},
               `#${l.id} · ${interest(l.interest || l.business)} · ${T.lead_status[l.status] || l.status}`,
               l.assigned_name ? ` · ${l.assigned_name}` : "")))
        : el("p", {class: "muted", "data-testid": "w-leads"}, T.no_leads));
  }

  function render() {
    const s = state, cur = s.current, paused = s.state === "paused";
    $("w-state").textContent = T[`state_${s.state}`];
    $("w-state").className = `wstate wstate-${s.state}`;
    $("w-current").replaceChildren(...(cur ? [
      el("div", {class: "wticket", "data-testid": "w-ticket"}, cur.ticket),
      el("p", {}, el("strong", {}, txt(cur.business_name)), ` · ${cur.called || ""} · ${fill(T.calls, {n: cur.calls})}`,
        cur.priority === "priority" ? " ★" : ""),
      el("p", {class: "muted", "data-testid": "w-routing"}, `${T.routing}: ${(cur.reasons || []).map(txt).join("; ")}`),
      cur.call_reason ? el("p", {class: "muted", "data-testid": "w-why"}, `${T.why_called}: ${txt(cur.call_reason)}`) : "",
    ] : [el("p", {class: "muted"}, T.idle)]));
    const nx = s.next;
    $("w-next").replaceChildren(...(nx && !paused ? [
      el("div", {class: "wnext", "data-testid": "w-next-ticket"}, nx.ticket),
      el("p", {}, txt(nx.business_name), " · ", fill(T.waited, {n: Math.round(nx.waited_min)}),
        nx.priority === "priority" ? " ★" : ""),
      el("p", {class: "muted", "data-testid": "w-next-why"}, `${T.why_next}: ${txt(nx.reason)}`),
    ] : [el("p", {class: "muted"}, T.nobody)]));
    $("w-call").disabled = s.state !== "open";
    ["w-finish", "w-recall", "w-no-show", "w-park", "w-transfer-business", "w-transfer-counter", "w-refer"]
      .forEach((id) => { $(id).disabled = !cur; });
    $("w-pause").disabled = s.state !== "open" || !!cur;
    $("w-pause").hidden = $("w-pause-reason").hidden = $("w-pause-note").hidden = paused;
    $("w-resume").hidden = !paused;
    $("w-paused").hidden = !paused;
    if (paused) $("w-paused").textContent = fill(T.paused_since, {at: s.paused_at || "",
                                                                   reason: (T[`pause_${s.pause_reason}`] || s.pause_reason) + (s.pause_note ? ` (${s.pause_note})` : "")});
    const biz = $("w-to-business");
    if (!biz.options.length) {
      s.businesses.forEach((b) => biz.append(el("option", {value: b.code}, txt(b.name))));
      s.counters.forEach((n) => $("w-to-counter").append(el("option", {value: n}, n)));
    }
    $("w-parked").replaceChildren(...(s.parked.length ? [] : [el("li", {class: "muted"}, T.none)]), ...s.parked.map((p) => el("li", {}, el("strong", {}, p.ticket), " ",
      el("button", {type: "button", "data-testid": `w-resume-${p.ticket}`,
        on: {click: () => act(`/api/tickets/${p.id}/resume`)}}, T.resume))));
    loadCustomer(false);
  }

  const ticketUrl = (action) => `/api/tickets/${state.current.id}/${action}`;
  $("w-call").addEventListener("click", () => act(counterUrl("call-next")));
  $("w-finish").addEventListener("click", () => act(counterUrl("finish")));
  $("w-recall").addEventListener("click", () => act(counterUrl("recall")));
  $("w-no-show").addEventListener("click", () => act(ticketUrl("no-show")));
  $("w-park").addEventListener("click", () => act(ticketUrl("park")));
  $("w-transfer-business").addEventListener("click", () => act(ticketUrl("transfer"), {business: $("w-to-business").value}));
  $("w-transfer-counter").addEventListener("click", () =>
    act(ticketUrl("transfer"), {counter: Number($("w-to-counter").value), front: true}));
  $("w-refer").addEventListener("click", async () => {
    const note = $("w-refer-note").value.trim();
    const r = await act(ticketUrl("refer"), note ? {note} : {});
    if (r) { $("w-refer-note").value = ""; loadCustomer(true); }
  });
  $("w-pause").addEventListener("click", async () => {
    const note = $("w-pause-note").value.trim();
    if (await act(counterUrl("pause"), note ? {reason: $("w-pause-reason").value, note} : {reason: $("w-pause-reason").value})) {
      $("w-pause-note").value = "";
    }
  });
  $("w-resume").addEventListener("click", () => act(counterUrl("resume")));
  $("w-sign-out").addEventListener("click", async () => {
    ok();
    try { await sz.post(counterUrl("sign-out")); window.location.reload(); } catch (e) { fail(e); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    if (e.target.closest && e.target.closest("input, select, textarea")) return;
    const key = e.key.toLowerCase();
    if (key === "n" && !$("w-call").disabled) { e.preventDefault(); $("w-call").click(); }
    if (key === "f" && !$("w-finish").disabled) { e.preventDefault(); $("w-finish").click(); }
  });
  sz.on("queue.changed", (evt) => { if (evt.branch_id === branch) load(); });
  sz.on("resync", () => load());
  document.addEventListener("DOMContentLoaded", load);
  setInterval(load, 30000);  // waited minutes move even when nothing happens
})();
