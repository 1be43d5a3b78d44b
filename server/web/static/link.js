/* An edge's consoles: the banner saying the link to head office is down (server/link/templates/link/banner.html)
 * is re-read every 10 s, so it appears when the link goes down and goes away when it returns, without a reload. */
(function () {
  "use strict";
  const EVERY_MS = 10000;
  async function refresh() {
    const el = document.getElementById("link-banner");
    if (!el) return;
    try {
      const resp = await fetch(el.dataset.url, {credentials: "same-origin"});
      if (resp.ok) {
        const box = document.createElement("div");
        box.innerHTML = await resp.text();
        const fresh = box.querySelector("#link-banner");
        if (fresh && fresh.outerHTML !== el.outerHTML) el.replaceWith(fresh);
      }
    } catch (e) { /* the edge's own server is away: keep what is shown */ }
  }
  setInterval(refresh, EVERY_MS);
})();
