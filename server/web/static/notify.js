/* The console's bell: unread count in the navigation (live via sz.on("notify.bell")), the bell page, the rota form. */
(function () {
  "use strict";
  const locale = document.documentElement.lang;
  const time = (iso) => iso ? new Date(iso).toLocaleString(locale) : "—";
  const get = async (url) => { const r = await fetch(url, {credentials: "same-origin"}); if (!r.ok) throw new Error(r.status); return r.json(); };

  function setCount(n) {
    const c = document.getElementById("bell-count");
    if (!c) return;
    c.textContent = n > 99 ? "99+" : String(n);
    c.hidden = !n;
    c.dataset.count = String(n);
  }

  async function renderBell() {
    const list = document.getElementById("bell-list");
    if (!list) return;
    const items = await get("/api/me/notifications?limit=100");
    list.replaceChildren();
    if (!items.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = list.dataset.empty; list.append(li); return; }
    items.forEach((n) => {
      const li = document.createElement("li");
      li.className = "sev-" + n.severity.toLowerCase() + (n.read_at ? " read" : " unread");
      li.setAttribute("data-testid", "bell-" + n.id);
      const head = document.createElement("strong");
      head.textContent = n.title;
      const meta = document.createElement("small");
      meta.textContent = " " + time(n.created_at) + " · " + n.branch_id;
      const body = document.createElement("p");
      body.textContent = n.body;
      li.append(head, meta, body);
      if (n.link) { const a = document.createElement("a"); a.href = n.link; a.textContent = list.dataset.open; li.append(a, " "); }
      if (!n.read_at) {
        const b = document.createElement("button");
        b.type = "button"; b.textContent = list.dataset.read; b.setAttribute("data-testid", "bell-read-" + n.id);
        b.addEventListener("click", async () => { setCount((await sz.post("/api/me/notifications/read", {ids: [n.id]})).unread); renderBell(); });
        li.append(b);
      }
      list.append(li);
    });
  }

  function rotaForm() {
    const form = document.getElementById("shift-form");
    if (!form) return;
    const iso = (v) => new Date(v).toISOString();  /* datetime-local is the browser's local time */
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const body = {team: f.get("team"), staff_id: Number(f.get("staff_id")), level: Number(f.get("level")),
                    starts_at: iso(f.get("starts_at")), ends_at: iso(f.get("ends_at"))};
      if (f.get("email")) body.email = f.get("email");
      try { await sz.post(`/api/branches/${form.dataset.branch}/oncall`, body); window.location.reload(); }
      catch (e) { window.alert(e.message); }
    });
    document.querySelectorAll(".shift-remove").forEach((b) => b.addEventListener("click", async () => {
      await sz.post(`/api/oncall/${b.dataset.shift}`, undefined, "DELETE");
      window.location.reload();
    }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("time[data-at]").forEach((t) => { t.textContent = time(t.dataset.at); });
    get("/api/me/notifications/count").then((r) => setCount(r.unread)).catch(() => {});
    sz.on("notify.bell", (evt) => { setCount(evt.data.unread); if (document.body.dataset.notify === "bell") renderBell(); });
    const all = document.getElementById("bell-read-all");
    if (all) all.addEventListener("click", async () => { setCount((await sz.post("/api/me/notifications/read", {})).unread); renderBell(); });
    renderBell().catch((e) => console.warn(e));
    rotaForm();
  });
})();
