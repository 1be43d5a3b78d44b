/* Lobby queue console: renders GET /api/branches/{b}/queue, re-reads it on every `queue.changed` SSE
 * event, and sends one-click actions with sz.post (CSRF header). No framework, no CDN. */
(function () {
  "use strict";
  const app = document.getElementById("queue-app");
  if (!app) return;
  const branch = app.dataset.branch;
  const zh = app.dataset.locale === "zh-CN";
  const T = JSON.parse(app.dataset.t);
  const businesses = JSON.parse(app.dataset.businesses);
  let state = null;
  let loading = false, again = false;

  const el = sz.el;
  const txt = (o) => (o && typeof o === "object") ? (zh ? o.zh : o.en) : (o || "");
  const mins = (v) => v === null || v === undefined ? "–" : Math.round(v);

  async function act(url, body) {
    try { await sz.post(url, body); } catch (e) { window.alert(e.message); }
    load();
  }

  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const r = await fetch(`/api/branches/${branch}/queue`, {credentials: "same-origin"});
      if (r.ok) { state = await r.json(); render(); }
    } finally {
      loading = false;
      if (again) { again = false; load(); }
    }
  }

  function render() {
    const openCounters = state.counters.filter((c) => c.open);
    const tbody = document.querySelector("#q-waiting tbody");
    tbody.replaceChildren();
    document.getElementById("q-count").textContent = state.waiting.filter((w) => w.status !== "parked").length;
    if (!state.waiting.length) tbody.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T.empty)));
    state.waiting.forEach((w) => {
      const counterPick = el("select", {"aria-label": T.call_to, "data-testid": `call-to-${w.ticket}`},
        openCounters.filter((c) => c.skills.includes(w.business)).map((c) => el("option", {value: c.number}, c.number)));
      const bizPick = el("select", {"aria-label": T.transfer}, businesses.filter((b) => b !== w.business)
        .map((b) => el("option", {value: b}, b)));
      const actions = w.status === "parked"
        ? [el("button", {type: "button", on: {click: () => act(`/api/tickets/${w.id}/resume`)}}, T.resume),
           el("button", {type: "button", on: {click: () => act(`/api/tickets/${w.id}/no-show`)}}, T.no_show)]
        : [el("span", {class: "qpick"}, counterPick, el("button", {type: "button", class: "primary",
              "data-testid": `call-ticket-${w.ticket}`, on: {click: async () => {
                if (!counterPick.value) return;
                await act(`/api/tickets/${w.id}/transfer`, {counter: Number(counterPick.value), front: true});
                await act(`/api/branches/${branch}/counters/${counterPick.value}/call-next`);
              }}}, T.call_to)),
           el("span", {class: "qpick"}, bizPick, el("button", {type: "button", on: {click: () =>
              act(`/api/tickets/${w.id}/transfer`, {business: bizPick.value})}}, T.transfer)),
           w.priority === "priority" ? "" : el("button", {type: "button", on: {click: () => {
              const reason = window.prompt(T.reason_prompt);
              if (reason) act(`/api/tickets/${w.id}/reprioritise`, {priority: "priority", reason});
            }}}, T.priority),
           el("button", {type: "button", on: {click: () => act(`/api/tickets/${w.id}/park`)}}, T.park),
           el("button", {type: "button", on: {click: () => act(`/api/tickets/${w.id}/no-show`)}}, T.no_show)];
      tbody.append(el("tr", {"data-ticket": w.ticket, class: (w.over_target ? "qover " : "") + (w.near_target ? "qnear" : "")},
        el("td", {}, el("strong", {}, w.ticket), w.priority === "priority" ? " ★" : "", w.status === "parked" ? ` (${T.park})` : ""),
        el("td", {}, txt(w.business_name)),
        el("td", {class: "qreason"}, w.reasons.map((r) => txt(r)).join("; ")),
        el("td", {}, `${mins(w.waited_min)} ${T.min}`),
        el("td", {}, w.people_ahead),
        el("td", {}, w.wait_p50_min === null ? "–" : `${mins(w.wait_p50_min)}/${mins(w.wait_p90_min)} ${T.min}`),
        el("td", {class: "actions"}, actions)));
    });

    const list = document.getElementById("q-counters");
    const cUrl = (c, action) => `/api/branches/${branch}/counters/${c.number}/${action}`;
    list.replaceChildren(...state.counters.map((c) => {
      const paused = c.state === "paused";
      const reasonPick = el("select", {"aria-label": T.pause, "data-testid": `pause-reason-${c.number}`},
        Object.entries(T.reasons).map(([k, v]) => el("option", {value: k}, v)));
      return el("li", {class: paused ? "qpaused" : (c.open ? "" : "qclosed"), "data-counter": c.number},
      el("div", {class: "qcounterhead"}, el("strong", {}, `#${c.number}`), " ",
        el("span", {"data-testid": `counter-${c.number}-teller`}, c.teller ? `${T.teller}: ${c.teller}` : (c.staff || "")),
        el("span", {class: "qcur", "data-testid": `counter-${c.number}-ticket`},
          c.ticket ? c.ticket.ticket : (paused ? T.paused : (c.open ? T.idle : T.closed)))),
      paused ? el("div", {class: "muted", "data-testid": `counter-${c.number}-paused`},
        `${T.paused} ${c.paused_at || ""}: ${T.reasons[c.pause_reason] || c.pause_reason}`) : "",
      c.ticket && c.ticket.reason ? el("div", {class: "muted qwhy"}, `${T.why}: ${txt(c.ticket.reason)}`) : "",
      el("div", {class: "qbtns"},
        c.open ? [
          el("button", {type: "button", class: "primary", "data-testid": `call-next-${c.number}`,
            on: {click: () => act(cUrl(c, "call-next"))}}, T.call_next),
          el("button", {type: "button", disabled: !c.ticket, on: {click: () => act(cUrl(c, "recall"))}}, T.recall),
          el("button", {type: "button", disabled: !c.ticket, on: {click: () => act(cUrl(c, "finish"))}}, T.finish),
          el("button", {type: "button", disabled: !!c.ticket, on: {click: () => act(cUrl(c, "close"))}}, T.close),
          c.ticket ? "" : el("span", {class: "qpick"}, reasonPick, el("button", {type: "button",
            "data-testid": `pause-${c.number}`, on: {click: () => act(cUrl(c, "pause"), {reason: reasonPick.value})}}, T.pause)),
        ] : paused
          ? el("button", {type: "button", "data-testid": `resume-${c.number}`, on: {click: () => act(cUrl(c, "resume"))}}, T.resume_counter)
          : el("button", {type: "button", on: {click: () => act(cUrl(c, "open"))}}, T.open),
        c.teller && !c.ticket ? el("button", {type: "button", "data-testid": `sign-out-${c.number}`,
          on: {click: () => act(cUrl(c, "sign-out"))}}, T.sign_out) : ""));
    }));

    const alerts = state.waiting.filter((w) => w.near_target && w.status !== "parked");
    const al = document.getElementById("q-alerts");
    al.replaceChildren(...(alerts.length ? alerts.map((w) => el("li", {class: w.over_target ? "error" : ""},
      `${w.ticket}: ${mins(w.waited_min)}/${w.target_wait_min} ${T.min}`)) : [el("li", {class: "muted"}, T.no_alerts)]));

    const mae = document.getElementById("q-mae");
    mae.replaceChildren(...Object.entries(state.estimate_mae_min).map(([b, v]) => el("li", {}, `${b}: ${v}`)));

    const stopped = !state.issuing;
    document.getElementById("q-stopped").hidden = !stopped;
    const btn = document.getElementById("q-issuing");
    btn.textContent = stopped ? btn.dataset.resume : btn.dataset.stop;
  }

  document.getElementById("q-issuing").addEventListener("click", () =>
    act(`/api/branches/${branch}/queue/issuing`, {issuing: !state.issuing}));
  sz.on("queue.changed", (evt) => { if (evt.branch_id === branch) load(); });
  sz.on("resync", () => load());
  document.addEventListener("DOMContentLoaded", load);
  setInterval(load, 30000);  // waited minutes move even when nothing happens
})();
