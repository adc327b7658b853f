"""Marketing signals: website activity and tracked calls."""

from enum import StrEnum
from typing import Any

from pydantic import ConfigDict

from trigly.events.base import Payload, Problem, given
from trigly.events.types import HappenedAt, Identifier, RawContact, Seconds, Text, Url


class Page(StrEnum):
    MODEL = "model"
    CONFIGURATOR = "configurator"
    PRICE = "price"
    TRADE_IN = "trade_in"
    SERVICE = "service"
    OTHER = "other"


class WebActivity(Payload):
    """A page view on the dealer's site, by a known customer or an anonymous visitor (tied to
    the person later by `anonymous_id` on `customer.upserted` or `lead.created`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "anonymous_id": "web-7f3c2a9e",
                    "at": "2026-11-19T21:14:00+03:00",
                    "page": "configurator",
                    "model": "Geely Monjaro",
                    "url": "https://avto-dealer.ru/geely/monjaro/configurator",
                }
            ]
        }
    )

    customer_external_id: Identifier | None = None
    anonymous_id: Identifier | None = None
    at: HappenedAt
    page: Page
    model: Text | None = None
    url: Url | None = None

    @classmethod
    def input_problems(cls, data: dict[str, Any]) -> list[Problem]:
        if given(data, "customer_external_id") or given(data, "anonymous_id"):
            return []
        return [("customer_external_id", "name the visitor: customer_external_id or anonymous_id")]


class CallTracked(Payload):
    """A call to a tracked number (the number shows which ad or page brought the caller)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "call_id": "CT-9912044",
                    "tracking_number": "+7 495 150-00-11",
                    "caller_phone": "+7 916 123-45-67",
                    "at": "2026-11-20T11:02:00+03:00",
                    "duration_s": 184,
                    "answered": True,
                }
            ]
        }
    )

    call_id: Identifier
    tracking_number: RawContact
    caller_phone: RawContact
    at: HappenedAt
    duration_s: Seconds
    answered: bool
