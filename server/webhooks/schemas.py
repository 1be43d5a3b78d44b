"""The webhook delivery log as staff see it: keys, states and errors, never the body (it names customers)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from server.webhooks.models import DeliveryStatus


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    idempotency_key: str = Field(description="tp:<event id> or lead:<id>:<status>; the receiver's dedup key")
    branch_id: str | None
    event_type: str
    status: DeliveryStatus
    attempts: int
    resends: int = Field(description="times staff sent it again")
    next_attempt_at: datetime
    last_status: int | None = Field(description="the receiver's last HTTP status")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookDeliveriesOut(BaseModel):
    endpoint_configured: bool = Field(description="whether an external CRM endpoint (webhook_url) is set")
    counts: dict[str, int] = Field(description="deliveries by status (pending, delivered, dead)")
    items: list[WebhookDeliveryOut]
