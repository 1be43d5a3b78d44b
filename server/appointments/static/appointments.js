/* Appointments page: books through POST /api/branches/{b}/appointments with sz.post (CSRF header); a refusal
 * (slot full, closed day, …) is shown as the API's message; cancel buttons post …/cancel. */
(function () {
  "use strict";
  const form = document.getElementById("appt-form");
  const error = document.querySelector('[data-testid="appt-error"]');
  const ok = document.querySelector('[data-testid="appt-ok"]');
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const body = {business: f.get("business"), slot_at: f.get("slot_at")};
      if (f.get("customer_ref")) body.customer_ref = f.get("customer_ref");
      if (f.get("phone_last4")) body.phone_last4 = f.get("phone_last4");
      error.hidden = true; ok.hidden = true;
      try {
        const a = await sz.post(`/api/branches/${form.dataset.branch}/appointments`, body);
        const url = new URL(window.location.href);
        url.searchParams.set("booked", a.code);
        window.location.assign(url.toString());
      } catch (e) {
        const words = JSON.parse(form.dataset.errors || "{}");
        error.textContent = (e.data && words[e.data.error]) || e.message;
        error.hidden = false;
      }
    });
    const booked = new URL(window.location.href).searchParams.get("booked");
    if (booked) { ok.textContent = form.dataset.booked.replace("{code}", booked); ok.hidden = false; }
  }
  document.querySelectorAll("[data-cancel]").forEach((b) => b.addEventListener("click", async () => {
    try { await sz.post(`/api/appointments/${b.dataset.cancel}/cancel`); window.location.reload(); }
    catch (e) { error.textContent = e.message; error.hidden = false; }
  }));
})();
