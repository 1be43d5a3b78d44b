"""Server fixtures: an app on the migrated test database, staff accounts, signed-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from server.staff import security
from tests.server.helpers import PASSWORD


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    """argon2id with small parameters: same code paths, milliseconds instead of 60 MiB per hash."""
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    security.use_hasher(PasswordHasher())


@pytest.fixture
def app(migrated):
    from server.app import create_app

    engine, _factory = migrated
    return create_app(engine=engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def factory(migrated):
    return migrated[1]


@pytest.fixture
def make_user(factory) -> Callable[..., int]:
    """Create a staff account with PASSWORD (or a one-time password when password=None)."""
    from server.staff.service import create_staff

    def make(username: str, role: str, branches: tuple[str, ...] = ("b001",), *, password: str | None = PASSWORD,
             all_branches: bool = False) -> int:
        with factory() as s, s.begin():
            staff, _otp = create_staff(s, username=username, role=role, branch_ids=branches, password=password,
                                       all_branches=all_branches)
            return staff.id

    return make
