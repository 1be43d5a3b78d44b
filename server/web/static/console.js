/* smartzone console: live updates over Server-Sent Events and small helpers. No framework, no CDN.
 *
 * Domains listen with  sz.on("queue.board", (evt) => { ... })  or
 * document.addEventListener("sz:queue.board", (e) => e.detail ...).
 * evt = {type, branch_id, ts, data}. Fetch calls that change state use sz.post(url, body): it sends
 * the CSRF token from <meta name="csrf-token">.
 */
(function () {
  "use strict";
  const handlers = {};
  const sz = {
    on(type, fn) { (handlers[type] = handlers[type] || []).push(fn); },
    csrf() { const m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; },
    async post(url, body, method) {
      const resp = await fetch(url, {
        method: method || "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": sz.csrf()},
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const data = resp.headers.get("content-type", "").includes("json") ? await resp.json() : null;
      if (!resp.ok) { throw Object.assign(new Error((data && data.message) || resp.statusText), {status: resp.status, data}); }
      return data;
    },
    /* el("button", {class: "x", on: {click: fn}, disabled: true}, "text", child): a DOM element, children as text
     * or nodes; false/null attributes left out. */
    el(tag, attrs, ...children) {
      const e = document.createElement(tag);
      Object.entries(attrs || {}).forEach(([k, v]) => {
        if (k === "on") Object.entries(v).forEach(([ev, fn]) => e.addEventListener(ev, fn));
        else if (k === "class") e.className = v;
        else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
      });
      children.flat().forEach((c) => e.append(c instanceof Node ? c : document.createTextNode(String(c ?? ""))));
      return e;
    },
    events: null,
  };
  window.sz = sz;

  function dispatch(evt) {
    (handlers[evt.type] || []).forEach((fn) => { try { fn(evt); } catch (e) { console.error(e); } });
    (handlers["*"] || []).forEach((fn) => { try { fn(evt); } catch (e) { console.error(e); } });
    document.dispatchEvent(new CustomEvent("sz:" + evt.type, {detail: evt}));
  }

  function feed(evt) {
    const list = document.getElementById("event-feed");
    if (!list) return;
    const branch = document.body.dataset.branch;
    if (branch && evt.branch_id && evt.branch_id !== branch) return;
    const empty = list.querySelector(".muted");
    if (empty) empty.remove();
    const li = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = new Date(evt.ts).toLocaleTimeString(document.documentElement.lang);
    const text = document.createElement("span");
    text.textContent = " " + (evt.data && evt.data.text ? evt.data.text : evt.type);
    li.append(time, text);
    list.prepend(li);
    while (list.children.length > 50) list.lastElementChild.remove();
  }

  function connect() {
    const url = document.body.dataset.sse;
    const status = document.getElementById("live-status");
    if (!url || !window.EventSource) return;
    const source = new EventSource(url);
    sz.events = source;
    source.onopen = () => { if (status) { status.classList.add("ok"); status.classList.remove("lost"); status.title = status.dataset.ok; } };
    source.onerror = () => { if (status) { status.classList.remove("ok"); status.classList.add("lost"); status.title = status.dataset.lost; } };
    source.onmessage = (m) => handle(m);
    // Named events arrive only to listeners for their name: route every one through handle().
    const seen = new Set();
    sz.listen = (type) => { if (!seen.has(type)) { seen.add(type); source.addEventListener(type, handle); } };
    ["notice", "resync", "card.update"].forEach(sz.listen);
    const origOn = sz.on;
    sz.on = (type, fn) => { origOn(type, fn); if (type !== "*") sz.listen(type); };
    Object.keys(handlers).forEach((t) => t !== "*" && sz.listen(t));
  }

  function handle(message) {
    let evt;
    try { evt = JSON.parse(message.data); } catch (e) { return; }
    dispatch(evt);
    feed(evt);
  }

  sz.on("card.update", (evt) => {
    const card = document.getElementById("card-" + evt.data.card);
    if (!card || (document.body.dataset.branch && evt.branch_id !== document.body.dataset.branch)) return;
    let body = card.querySelector(".card-body");
    if (!body) { body = document.createElement("div"); body.className = "card-body"; card.append(body); }
    const muted = card.querySelector("p.muted");
    if (muted) muted.remove();
    body.textContent = evt.data.text || "";
  });
  sz.on("resync", () => { if (document.body.dataset.branch) window.location.reload(); });

  // <form data-confirm="…">: ask before submitting (no inline handlers: the CSP forbids them).
  document.addEventListener("submit", (e) => {
    const msg = e.target.dataset && e.target.dataset.confirm;
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", connect);
})();
