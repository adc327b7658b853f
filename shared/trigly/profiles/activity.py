"""Applying the customer-timeline events: bookings, test drives, showroom visits, leads, parts,
web activity, calls and car orders. Each lands as a record under a deterministic key in the
customer's collection; status-like records keep the latest event by `occurred_at` with one
conditional put (no read)."""

from typing import Any

from trigly.events.marketing import CallTracked, WebActivity
from trigly.events.sales import LeadCreated, OrderStatusChanged, ShowroomVisited, TestDriveChanged
from trigly.events.service import PartsPurchased, ServiceAppointmentChanged
from trigly.platform.tenancy import Tenant
from trigly.profiles import identity
from trigly.profiles import service as profiles
from trigly.profiles.ordering import EventContext
from trigly.profiles.records import (
    Appointment,
    Call,
    CarOrder,
    Interest,
    Lead,
    PartsLine,
    PartsPurchase,
    ShowroomVisit,
    TestDrive,
    WebVisit,
)
from trigly.store import vehicles as store


def _interest(value: Any) -> Interest | None:
    return Interest.model_validate(value, from_attributes=True) if value is not None else None


def apply_appointment(
    tenant: Tenant, ctx: EventContext, event: ServiceAppointmentChanged
) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    record = Appointment(
        appointment_id=event.appointment_id,
        vin=event.vin,
        status=event.status,
        starts_at=event.starts_at,
        location_id=event.location_id,
        source=event.source,
    )
    sk = Appointment.sk(event.appointment_id)
    if store.put_customer_record_if_newer(tenant.tenant_id, customer_id, sk, record, ctx.stamp):
        from trigly.booking.service import reflect_dms_appointment

        reflect_dms_appointment(tenant, record)
    return customer_id


def apply_test_drive(tenant: Tenant, ctx: EventContext, event: TestDriveChanged) -> str | None:
    if event.customer_external_id:
        customer_id = profiles.resolve_customer(
            tenant, ctx.connector_id, event.customer_external_id
        )
    else:
        contact = event.contact
        customer_id = identity.resolve_contact(
            tenant,
            ctx.connector_id,
            f"test_drive:{event.booking_id}",
            name=contact.name if contact else None,
            phone=contact.phone if contact else None,
            email=contact.email if contact else None,
        )
    record = TestDrive(
        booking_id=event.booking_id,
        model=event.model,
        status=event.status,
        starts_at=event.starts_at,
        location_id=event.location_id,
    )
    # A `cancelled` that happened after the `booked` stays, however late the `booked` arrives.
    sk = TestDrive.sk(event.booking_id)
    store.put_customer_record_if_newer(tenant.tenant_id, customer_id, sk, record, ctx.stamp)
    return customer_id


def apply_showroom_visit(tenant: Tenant, ctx: EventContext, event: ShowroomVisited) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    record = ShowroomVisit(
        visit_id=event.visit_id,
        at=event.at,
        interest=_interest(event.interest),
        outcome=event.outcome,
        reason=event.reason,
    )
    sk = ShowroomVisit.sk(event.at, event.visit_id)
    store.put_customer_records(tenant.tenant_id, customer_id, [(sk, record)])
    return customer_id


def apply_lead(tenant: Tenant, ctx: EventContext, event: LeadCreated) -> str | None:
    contact = event.contact
    customer_id = identity.resolve_contact(
        tenant,
        ctx.connector_id,
        f"lead:{event.lead_id}",
        name=contact.name if contact else None,
        phone=contact.phone if contact else None,
        email=contact.email if contact else None,
        anonymous_id=event.anonymous_id,
    )
    record = Lead(
        lead_id=event.lead_id,
        created_at=ctx.occurred_at,
        source=event.source,
        interest=_interest(event.interest),
        utm=event.utm,
    )
    store.put_customer_records(tenant.tenant_id, customer_id, [(Lead.sk(event.lead_id), record)])
    return customer_id


def apply_parts_purchase(tenant: Tenant, ctx: EventContext, event: PartsPurchased) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    record = PartsPurchase(
        order_id=event.order_id,
        at=event.at,
        items=[PartsLine.model_validate(i, from_attributes=True) for i in event.items],
        total_amount=float(event.total_amount),
        location_id=event.location_id,
    )
    sk = PartsPurchase.sk(event.at, event.order_id)
    store.put_customer_records(tenant.tenant_id, customer_id, [(sk, record)])
    return customer_id


def apply_web_activity(tenant: Tenant, ctx: EventContext, event: WebActivity) -> str | None:
    if event.customer_external_id:
        customer_id = profiles.resolve_customer(
            tenant, ctx.connector_id, event.customer_external_id
        )
    else:
        customer_id = identity.resolve_anonymous(tenant, event.anonymous_id or "")
    record = WebVisit(at=event.at, page=event.page, model=event.model, url=event.url)
    sk = WebVisit.sk(event.at, ctx.event_id)
    store.put_customer_records(tenant.tenant_id, customer_id, [(sk, record)])
    return customer_id


def apply_call(tenant: Tenant, _ctx: EventContext, event: CallTracked) -> str | None:
    # Calls are matched by the caller's phone, whichever connector tracked them.
    customer_id = identity.match_contact(tenant, None, event.caller_phone, None)
    if customer_id is None:
        return None  # an unknown caller: call attribution (reports) keeps those
    record = Call(
        call_id=event.call_id,
        at=event.at,
        tracking_number=event.tracking_number,
        duration_s=event.duration_s,
        answered=event.answered,
    )
    sk = Call.sk(event.at, event.call_id)
    store.put_customer_records(tenant.tenant_id, customer_id, [(sk, record)])
    return customer_id


def apply_order_status(tenant: Tenant, ctx: EventContext, event: OrderStatusChanged) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    record = CarOrder(
        order_id=event.order_id, status=event.status, eta=event.eta, updated_at=ctx.occurred_at
    )
    sk = CarOrder.sk(event.order_id)
    store.put_customer_record_if_newer(tenant.tenant_id, customer_id, sk, record, ctx.stamp)
    return customer_id
