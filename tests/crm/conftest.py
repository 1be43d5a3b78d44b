"""CRM tests reuse the server fixtures (app, client, accounts with cheap hashing)."""

from tests.server.conftest import app, cheap_hashing, client, factory, make_user  # noqa: F401
