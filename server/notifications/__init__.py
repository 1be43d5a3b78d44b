"""notifications domain: who is told (on-call rota), on which channels (e-mail, signed bot webhooks, the bell), and
a log of every delivery."""
