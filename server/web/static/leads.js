/* The leads worklist: ranked lead cards (the server's order, kept as leads change live), filters, reassigning,
 * accept / meet / convert / decline with an outcome, follow-up tasks, walk-in leads. No framework, no CDN. */
(function () {
  "use strict";
  const json = (id, fallback) => { const e = document.getElementById(id); return e ? JSON.parse(e.textContent) : fallback; };
  const L = json("crm-labels", {});
  const tr = (k, p) => (L[k] || k).replace(/\{(\w+)\}/g, (_, n) => (p && p[n] !== undefined ? p[n] : ""));
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => { if (v !== undefined && v !== null) e.setAttribute(k, v); });
    kids.flat().forEach((c) => e.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return e;
  };
  const OPEN = ["created", "accepted", "met"];
  const WAITING = ["created", "accepted"];
  const ACTIONS = {created: ["accept", "decline"], accepted: ["meet", "decline"], met: ["convert", "decline"]};
  const lang = document.documentElement.lang || undefined;
  const hm = (iso) => (iso ? new Date(iso).toLocaleTimeString(lang, {hour: "2-digit", minute: "2-digit"}) : "");
  const when = (iso) => (iso ? new Date(iso).toLocaleString(lang, {month: "2-digit", day: "2-digit", hour: "2-digit",
                                                                   minute: "2-digit"}) : "");

  let list, filter, managers, outcomes;
  const leads = new Map();  // id → the lead as the API last said

  function matches(lead) {
    const f = filter;
    if (f.status === "open" ? !OPEN.includes(lead.status) : f.status !== "all" && lead.status !== f.status) return false;
    if (f.who === "mine" && lead.assigned_to !== Number(f.me)) return false;
    if (f.who === "unassigned" && lead.assigned_to !== null) return false;
    if (f.kind === "customer" && lead.customer_id === null) return false;
    if (f.kind === "walk_in" && lead.customer_id !== null) return false;
    if (f.reason && lead.reason !== f.reason) return false;
    return !(f.tier && lead.tier !== f.tier);
  }

  function order(a, b) {
    if (filter.sort === "rank" && a.rank !== b.rank) return b.rank - a.rank;
    return b.created_at.localeCompare(a.created_at) || b.id - a.id;
  }

  async function act(lead, path, body) {
    try {
      const answer = await sz.post(`/api/referrals/${lead.id}/${path}`, body);
      if (path !== "tasks") { put(answer); return; }  // a task's answer is the task: fetch the lead again
      const resp = await fetch(`/api/referrals/${lead.id}`, {credentials: "same-origin"});
      if (resp.ok) put(await resp.json());
    } catch (e) { window.alert(e.message); }
  }

  function who(lead) {
    const box = el("div", {class: "lead-who"});
    box.append(el("span", {class: "lead-assignee", "data-testid": `assignee-${lead.id}`},
                  lead.assigned_name || tr("leads.nobody")),
               el("small", {class: "muted"}, lead.routed && lead.routed !== "none" ? ` · ${tr("leads.routed." + lead.routed)}` : ""));
    if (!OPEN.includes(lead.status)) return box;
    const pick = el("select", {"data-testid": `assign-${lead.id}`, "aria-label": tr("leads.reassign")});
    (managers[lead.branch_id] || []).forEach((m) => {
      const o = el("option", {value: m.id}, m.name);
      if (m.id === lead.assigned_to) o.selected = true;
      pick.append(o);
    });
    const give = el("button", {type: "button", "data-testid": `give-${lead.id}`}, tr("leads.give"));
    give.addEventListener("click", () => {
      give.disabled = true;
      act(lead, "assign", {staff_id: Number(pick.value)}).finally(() => { give.disabled = false; });
    });
    box.append(el("span", {class: "lead-reassign"}, el("label", {class: "inline-label"}, tr("leads.reassign"), pick), give));
    return box;
  }

  function actions(lead) {
    const box = el("div", {class: "lead-actions"});
    (ACTIONS[lead.status] || []).forEach((action) => {
      const b = el("button", {type: "button", "data-action": action, "data-testid": `${action}-${lead.id}`},
                   tr("leads." + action));
      b.addEventListener("click", () => {
        if (action === "decline") { declineForm(lead, box); return; }
        let body;
        if (action === "convert") {
          const product = window.prompt(tr("leads.product"), lead.interest && lead.interest !== "relationship" ? lead.interest : "");
          if (!product) return;
          body = {product, value: Number(window.prompt(tr("leads.value"), "0")) || 0};
        }
        b.disabled = true;
        act(lead, action, body).finally(() => { b.disabled = false; });
      });
      box.append(b);
    });
    return box;
  }

  function declineForm(lead, box) {
    const pick = el("select", {"data-testid": `outcome-${lead.id}`, "aria-label": tr("leads.outcome")});
    outcomes.forEach((o) => pick.append(el("option", {value: o}, tr("leads.outcome." + o))));
    const ok = el("button", {type: "button", class: "primary", "data-testid": `decline-ok-${lead.id}`}, tr("leads.decline"));
    const cancel = el("button", {type: "button"}, tr("leads.cancel"));
    ok.addEventListener("click", () => act(lead, "decline", {outcome: pick.value}));
    cancel.addEventListener("click", () => box.replaceWith(actions(lead)));
    box.replaceChildren(pick, ok, cancel);
  }

  function followUp(lead) {
    const box = el("div", {class: "lead-follow"});
    const summary = lead.open_tasks ? tr("leads.tasks", {n: lead.open_tasks, at: when(lead.next_task_due)}) : "";
    box.append(el("span", {"data-testid": `tasks-${lead.id}`}, summary));
    if (["declined", "expired"].includes(lead.status)) return box;
    const add = el("button", {type: "button", "data-testid": `task-${lead.id}`}, tr("leads.add_task"));
    add.addEventListener("click", () => {
      const due = el("input", {type: "datetime-local", required: "", "aria-label": tr("leads.task_due"),
                               "data-testid": `task-due-${lead.id}`});
      const soon = new Date(Date.now() + 86400000);
      soon.setMinutes(soon.getMinutes() - soon.getTimezoneOffset());
      due.value = soon.toISOString().slice(0, 16);
      const note = el("input", {maxlength: "200", placeholder: tr("leads.task_note"), "data-testid": `task-note-${lead.id}`});
      const save = el("button", {type: "button", class: "primary", "data-testid": `task-save-${lead.id}`}, tr("leads.save"));
      save.addEventListener("click", () => {
        if (!note.value.trim() || !due.value) return;
        act(lead, "tasks", {due_at: new Date(due.value).toISOString(), note: note.value.trim()});
      });
      box.replaceChildren(due, note, save);
    });
    box.append(add);
    return box;
  }

  function timeOf(lead) {
    const mins = Math.max(Math.floor((Date.now() - new Date(lead.created_at).getTime()) / 60000), 0);
    return el("span", {class: "lead-time muted"}, hm(lead.created_at), WAITING.includes(lead.status)
      ? ` · ${tr("leads.waited", {m: mins})} · ${tr("leads.sla")} ${hm(lead.sla_due_at)}` : "");
  }

  function card(lead) {
    const head = el("div", {class: "lead-head"});
    head.append(el("span", {class: "lead-rank", title: tr("leads.rank"), "data-testid": `rank-${lead.id}`}, lead.rank));
    if (lead.customer_id !== null) {
      head.append(el("a", {href: `/customers/${lead.customer_id}`, class: "lead-name"}, lead.masked_name || ""),
                  el("span", {class: `tier tier-${lead.tier}`}, lead.tier || ""));
      if (lead.aum_band) head.append(el("span", {class: "lead-band", title: tr("crm.holdings")}, lead.aum_band));
    } else {
      head.append(el("span", {class: "lead-name"}, tr("leads.walk_in_one")),
                  el("small", {class: "muted"}, `${tr("leads.why")}: ${lead.walk_in_reason || ""}`));
    }
    const interest = lead.interest === "relationship" ? tr("leads.interest.relationship") : lead.interest;
    head.append(el("span", {class: "lead-reason"}, tr("leads.reason." + lead.reason), interest ? ` · ${interest}` : ""));
    const status = el("span", {class: `lead-status st-${lead.status}`, "data-testid": `status-${lead.id}`},
                      tr("leads.st." + lead.status), lead.escalated_at ? ` · ${tr("leads.escalated")}` : "",
                      lead.outcome && lead.outcome !== "converted" ? ` · ${tr("leads.outcome." + lead.outcome)}` : "");
    head.append(status, timeOf(lead));
    const body = el("div", {class: "lead-body"}, who(lead), followUp(lead), actions(lead));
    return el("article", {class: "lead", "data-lead": lead.id, "data-status": lead.status, "data-rank": lead.rank,
                          "data-testid": `lead-${lead.id}`}, head, body);
  }

  // Cards are built once per version of a lead and moved, not rebuilt, when the order changes: a select or a
  // half-filled follow-up form in another card survives a live update.
  const cards = new Map();

  function render() {
    const shown = [...leads.values()].filter(matches).sort(order);
    const keep = new Set(shown.map((l) => l.id));
    cards.forEach((c, id) => { if (!keep.has(id)) c.node.remove(); });
    shown.forEach((lead, i) => {
      const node = cards.get(lead.id).node;
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    document.getElementById("leads-empty").hidden = shown.length > 0;
  }

  function put(lead) {
    const version = JSON.stringify(lead);
    const had = cards.get(lead.id);
    if (had && had.version === version) return;
    const node = card(lead);
    if (had) had.node.replaceWith(node);
    cards.set(lead.id, {version, node});
    leads.set(lead.id, lead);
    render();
  }

  function tick() {  // the waiting minutes move on
    cards.forEach((c, id) => {
      const time = c.node.querySelector(".lead-time");
      if (time) time.replaceWith(timeOf(leads.get(id)));
    });
  }

  function walkIn() {
    const form = document.getElementById("walk-in-form");
    if (!form) return;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(form).entries());
      const err = document.getElementById("walk-in-error");
      err.textContent = "";
      try {
        const lead = await sz.post("/api/referrals", {walk_in: true, walk_in_reason: data.walk_in_reason || null,
                                                      interest: data.interest || null, branch_id: data.branch_id});
        form.reset();
        put(lead);
      } catch (ex) { err.textContent = ex.message; }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    list = document.getElementById("leads");
    if (!list) return;
    filter = list.dataset;
    managers = json("lead-managers", {});
    outcomes = json("lead-outcomes", []);
    json("lead-items", []).forEach(put);
    render();
    sz.on("crm.lead", (evt) => put(evt.data));
    setInterval(tick, 60000);
    walkIn();
  });
})();
