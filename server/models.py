"""Every table, imported in one place so Alembic and create_all see the whole schema."""

from server.alarms.models import Alarm  # noqa: F401 (fleet)
from server.appointments.models import Appointment  # noqa: F401 (queueing: appointments)
from server.audit.models import AuditEntry
from server.branches.models import Branch
from server.customers.models import (  # noqa: F401 (crm)
    Consent,
    Customer,
    CustomerNote,
    FaceTemplate,
    Identity,
    TemplateGeneration,
)
from server.devices.models import (  # noqa: F401 (fleet)
    Device,
    DeviceCommand,
    PaperRoll,
    TimelineEntry,
    UsageHour,
    UsageSession,
)
from server.events.models import DeadLetter, Event
from server.jobs.models import JobLease, JobRun  # noqa: F401 (scheduler lease and run log)
from server.link.models import CachedItem, LinkState, UplinkItem  # noqa: F401 (the edge's link to the centre)
from server.notifications.models import Delivery, Notification, OnCallShift  # noqa: F401 (notifications)
from server.outbox.models import OutboxMessage
from server.queueing.models import CounterState, NumberCounter, QueueState, Ticket, TicketStep  # noqa: F401 (queueing)
from server.referrals.models import LeadTask, Referral  # noqa: F401 (crm)
from server.retention.models import RetentionRun  # noqa: F401 (retention)
from server.staff.models import Staff, StaffBranch, StaffSession
from server.touchpoints.models import Touchpoint, Visit
from server.webhooks.models import WebhookDelivery  # noqa: F401 (crm)
from server.workorders.models import WorkOrder  # noqa: F401 (fleet)

__all__ = [
    "AuditEntry", "Branch", "DeadLetter", "Device", "Event", "OutboxMessage", "Staff", "StaffBranch",
    "StaffSession", "Touchpoint", "Visit",
]
