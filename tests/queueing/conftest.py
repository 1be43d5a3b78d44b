"""Queue tests reuse the server fixtures (app on the migrated database, staff accounts, cheap hashing)."""

from tests.server.conftest import app, cheap_hashing, client, factory, make_user  # noqa: F401
