"""Property-based API fuzzing from /openapi.json (schemathesis): no input may cause a server error."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from server.staff.models import SessionKind

# Generated requests per run, shared by every operation and mode (so the run stays bounded as domains add
# endpoints), with at least MIN_EXAMPLES each. PostgreSQL (stricter types) gets fewer than SQLite.
BUDGET = {"sqlite": int(os.environ.get("SZ_FUZZ_BUDGET", "1000")), "postgresql": 400}
MIN_EXAMPLES = 4


def _token(factory, staff_id: int) -> str:
    from server.staff.models import Staff
    from server.staff.service import open_session

    with factory() as s, s.begin():
        return open_session(s, s.get(Staff, staff_id), SessionKind.BEARER).token


@pytest.mark.timeout(240)
def test_no_server_errors(app, factory, make_user, request):
    """GIVEN the OpenAPI document WHEN valid and invalid requests are generated for every operation, signed
    in as a b001 manager or the admin THEN no answer is a 5xx and every error has the JSON error shape."""
    which = request.node.callspec.params["db_url"]
    callers = {"manager": make_user("fz-manager", "branch_manager", ("b001",)),
               "admin": make_user("fz-admin", "admin", (), all_branches=True)}
    make_user("fz-teller", "teller", ("b002",))
    app.state.events.closed = True  # event streams end at once instead of waiting for events
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, [op.label for op in operations]
    failures: list[str] = []
    examples = max(MIN_EXAMPLES, BUDGET[which] // (2 * len(operations)))

    def check(operation, mode):
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode), who=st.sampled_from(sorted(callers)))
        def run(case, who):
            # a fresh token per example: logout and password changes cannot starve later examples
            headers = {"Authorization": f"Bearer {_token(factory, callers[who])}"}
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{operation.label} [{mode.value}] -> {response.status_code}: "
                                f"{case.as_curl_command()}\n{response.text[:300]}")
            elif response.status_code >= 400:
                body = response.json()
                if not (isinstance(body, dict) and "error" in body and "message" in body):
                    failures.append(f"{operation.label}: error body without error/message: {body}")

        try:
            run()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise  # only operations without inputs have no invalid requests

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            check(operation, mode)
    assert not failures, "\n".join(failures[:10])
