"""Customers: search and the 360° profile."""

from datetime import timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from functions.api.context import current_tenant
from functions.api.schemas import (
    CustomerExport,
    CustomerHistoryPage,
    CustomerList,
    CustomerProfile,
    Merge,
)
from trigly.platform.clock import isoformat
from trigly.platform.errors import FieldError, ValidationFailed
from trigly.profiles import erasure, merge
from trigly.profiles import service as profiles

router = APIGatewayHttpRouter()


@router.get("/customers", tags=["customers"], summary="Search customers")
def search_customers(
    phone: Annotated[
        str | None, Query(description="Any human format, e.g. 8 (912) 345-67-89")
    ] = None,
    email: Annotated[str | None, Query(description="Any case")] = None,
    external_id: Annotated[str | None, Query(description="The DMS's customer id")] = None,
    vin: Annotated[str | None, Query(description="VIN or frame number of a car owned now")] = None,
) -> CustomerList:
    if phone is None and email is None and external_id is None and vin is None:
        raise ValidationFailed(
            errors=[FieldError("query", "give one of phone, email, vin, external_id")]
        )
    tenant = current_tenant(router)
    items = profiles.search_customers(
        tenant, phone=phone, email=email, external_id=external_id, vin=vin
    )
    return CustomerList.model_validate({"items": items, "cursor": None})


@router.get(
    "/customers/<customer_id>",
    tags=["customers"],
    summary="The 360° profile",
    description="Only what is computed: `offers` is `[]` while none applies, `loyalty` `null` "
    "without a loyalty programme, `readiness` `null` until the customer is scored.",
)
def get_customer(customer_id: str) -> CustomerProfile:
    return CustomerProfile.model_validate(profiles.get_profile(current_tenant(router), customer_id))


@router.get(
    "/customers/<customer_id>/export",
    tags=["customers"],
    summary="Everything held about a customer",
)
def export_customer(customer_id: str) -> CustomerExport:
    return CustomerExport.model_validate(
        erasure.export_customer(current_tenant(router), customer_id)
    )


@router.delete(
    "/customers/<customer_id>",
    tags=["customers"],
    summary="Erase a customer everywhere",
    description=(
        "Erases the profile, consent ledger, history, messages and their sandbox outbox entries, "
        "the cars' personal links, every lookup, merge snapshots and the person's rejected "
        "events. Imports still waiting or running are looked through right after: one whose "
        "uploaded file names the person ends `failed` and its file is deleted (upload it again "
        "without them). Only a keyed hash of a contact that opted out or complained stays on "
        "the suppression list."
    ),
    status_code=204,
)
def erase_customer(customer_id: str) -> Response[None]:
    erasure.erase_customer(current_tenant(router), customer_id)
    return Response(status_code=204)


class MergeRequest(BaseModel):
    duplicate_id: str = Field(min_length=1, max_length=64, description="The customer to fold in")
    reason: str = Field(min_length=1, max_length=500, description="Why they are one person")


def _merge_view(record: merge.MergeRecord) -> Merge:
    return Merge(
        id=record.merge_id,
        survivor_id=record.survivor_id,
        duplicate_id=record.duplicate_id,
        reason=record.reason,
        at=isoformat(record.at),
        state=record.state.value,
        moved_records=len(record.moved),
        undo_until=isoformat(record.at + timedelta(days=merge.UNDO_DAYS)),
        undone_at=isoformat(record.undone_at) if record.undone_at else None,
    )


@router.post(
    "/customers/<customer_id>/merge",
    tags=["customers"],
    summary="Merge a duplicate into this customer",
    description=(
        "Folds the duplicate into this customer: history, cars, contacts, DMS ids, consents and "
        "lookups. The merge is recorded before its first step, so if the call fails halfway, "
        "sending the same merge again finishes it (`state` goes from `started` to `done`). "
        "Merging a customer into itself, merging a customer that was merged already (as "
        "duplicate), or merging into one that was, answers `409`. "
        f"The merge can be undone for {merge.UNDO_DAYS} days (`undo_until`); a snapshot of both "
        "customers as they were is kept that long, and deleted once undone or erased."
    ),
)
def merge_customer(customer_id: str, request: MergeRequest) -> Merge:
    tenant = current_tenant(router)
    return _merge_view(
        merge.merge_customers(tenant, customer_id, request.duplicate_id, request.reason)
    )


@router.post(
    "/customers/<customer_id>/merges/<merge_id>/undo",
    tags=["customers"],
    summary="Undo a merge",
    description=(
        "Splits the two again: the duplicate comes back with its contacts, DMS ids, consents, "
        "cars and records (as they are now), with its lookups. What was recorded after the merge "
        "stays: new records and contacts stay with this customer; a consent statement follows "
        "the identifier it came through (the duplicate's DMS id, or a message to one of its "
        "contacts), and a withdrawal stays on this customer too. Offered for "
        f"{merge.UNDO_DAYS} days after the merge; later, or a second time, `409`. An interrupted "
        "undo (`state` `undoing`) is finished by asking again."
    ),
)
def undo_merge(customer_id: str, merge_id: str) -> Merge:
    return _merge_view(merge.undo_merge(current_tenant(router), customer_id, merge_id))


@router.get("/customers/<customer_id>/history", tags=["customers"], summary="Older history, paged")
def customer_history(
    customer_id: str, cursor: Annotated[str, Query(min_length=1)]
) -> CustomerHistoryPage:
    return CustomerHistoryPage.model_validate(
        profiles.get_history(current_tenant(router), customer_id, cursor)
    )
