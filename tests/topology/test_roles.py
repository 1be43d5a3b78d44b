"""Roles: which handlers, jobs and pages run in a branch's edge, at the centre, and in `all`."""

from server.app import create_app
from server.appointments import sync as appointment_sync
from server.customers import face_probe, optin
from server.customers import flows as crm_flows
from server.devices import handlers as fleet
from server.ingest import handlers
from server.link import service as link
from server.queueing import flows as queue_flows
from server.scheduler import jobs_for
from szconfig import HubSettings, ServerSettings
from szconfig.roles import Role


def test_each_role_runs_its_own_handlers_and_jobs() -> None:
    """GIVEN the declared roles WHEN a process selects by its role THEN the edge issues tickets and queues
    events for the centre but runs no CRM or fleet; the centre runs CRM and the fleet but issues no tickets;
    `all` runs both and has no link."""
    edge, centre, both = (handlers.for_role(handlers.HANDLERS, r) for r in (Role.EDGE, Role.CENTRAL, Role.ALL))
    assert queue_flows.issue_ticket_requests in edge and link.enqueue in edge
    assert crm_flows.handle not in edge and fleet.handle not in edge
    assert crm_flows.handle in centre and fleet.handle in centre and queue_flows.issue_ticket_requests not in centre
    assert link.enqueue not in centre and link.enqueue not in both
    assert {crm_flows.handle, fleet.handle, queue_flows.issue_ticket_requests} <= set(both)
    assert handlers.for_role(handlers.DEFERRED, Role.CENTRAL) == []
    assert appointment_sync.send_up in handlers.for_role(handlers.DEFERRED, Role.EDGE)  # check-ins go up
    assert appointment_sync.record_changes in centre and appointment_sync.record_changes not in both


def test_face_probes_are_answered_once_where_the_kiosks_replies_come_from() -> None:
    """GIVEN the declared roles THEN the edge and `all` match and answer face probes, the centre only records
    them (no second answer); the edge deletes its cached templates on a withdrawal; the embeddings are
    forgotten last at the centre."""
    edge, centre, both = (handlers.for_role(handlers.HANDLERS, r) for r in (Role.EDGE, Role.CENTRAL, Role.ALL))
    assert face_probe.answer in edge and face_probe.answer in both and face_probe.answer not in centre
    assert face_probe.record_only in centre and face_probe.record_only not in edge + both
    assert optin.edge_withdrawals in edge and optin.edge_withdrawals not in centre + both
    assert centre[-1] is optin.forget_embeddings and both[-1] is optin.forget_embeddings
    assert "appointments.no_shows" not in {j.name for j in jobs_for(Role.CENTRAL)}  # the branch decides
    edge_jobs, centre_jobs = {j.name for j in jobs_for(Role.EDGE)}, {j.name for j in jobs_for(Role.CENTRAL)}
    assert "queueing.close_self_service" in edge_jobs and not any(n.startswith("crm.") for n in edge_jobs)
    assert "fleet.presence" in centre_jobs and "queueing.close_self_service" not in centre_jobs
    assert "link.push_down" in centre_jobs and "link.push_down" not in edge_jobs
    assert {j.name for j in jobs_for(Role.ALL)} == (edge_jobs | centre_jobs) - {"link.push_down"}


def test_each_role_serves_its_own_pages() -> None:
    """GIVEN the server's routers WHEN built for a role THEN the edge serves the queue and link pages but not
    the fleet or CRM; the centre the reverse."""
    def paths(role: Role) -> set[str]:
        return set(create_app(ServerSettings(role=role, jobs=False)).openapi()["paths"])

    edge, centre = paths(Role.EDGE), paths(Role.CENTRAL)
    assert any(p.startswith("/api/link/") for p in edge) and not any(p.startswith("/api/link/") for p in centre)
    assert any("/queue" in p for p in edge) and not any("/queue" in p for p in centre)
    assert any(p.startswith("/api/devices") for p in centre) and not any(p.startswith("/api/devices") for p in edge)


def test_an_edge_must_name_its_branch() -> None:
    """GIVEN hub settings with role edge and no branch THEN they are refused with a message saying what to set."""
    try:
        HubSettings(role="edge")
    except ValueError as err:
        assert "needs the branch" in str(err)
    else:
        raise AssertionError("an edge without a branch was accepted")
