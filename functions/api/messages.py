"""Messages: one-off sends through the one send path, and a customer's messages."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, JsonValue, ValidationInfo, field_validator

from functions.api.context import current_tenant
from functions.api.schemas import AcceptedMessage, MessageList
from trigly.events.types import Channel
from trigly.messaging import service as messaging
from trigly.messaging.intent import MessagePurpose, SendIntent

router = APIGatewayHttpRouter()


class NewMessage(BaseModel):
    """CONTRACT §3 `POST /v1/messages`."""

    customer_id: str = Field(min_length=1, max_length=100)
    purpose: Literal["transactional", "service", "marketing"]
    text: str | None = Field(
        default=None, min_length=1, max_length=4000, description="May use {{ variables }}"
    )
    # Checked even when absent, so "neither" is an error about `template_id`.
    template_id: str | None = Field(
        default=None, min_length=1, max_length=100, validate_default=True
    )
    subject: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="For email, with `text` (a template has its own subject)",
    )
    channel: Channel | None = None
    variables: dict[str, JsonValue] = Field(default_factory=dict)
    idempotency_key: str = Field(min_length=1, max_length=200)

    # Field validators, not a model validator: each problem is reported at its field's path.
    @field_validator("template_id")
    @classmethod
    def _one_body(cls, template_id: str | None, info: ValidationInfo) -> str | None:
        if "text" in info.data and (info.data["text"] is None) == (template_id is None):
            raise ValueError("give either `text` or `template_id`")
        return template_id

    @field_validator("subject")
    @classmethod
    def _subject_with_text(cls, subject: str | None, info: ValidationInfo) -> str | None:
        if subject is not None and info.data.get("text") is None:
            raise ValueError("`subject` goes with `text`; a template has its own subject")
        return subject


@router.post(
    "/messages",
    tags=["messages"],
    summary="Send one message now (guardrails apply)",
    status_code=202,
)
def send_message(request: NewMessage) -> AcceptedMessage:
    intent = SendIntent(
        customer_id=request.customer_id,
        purpose=MessagePurpose(request.purpose),
        kind="one_off",
        text=request.text,
        template_id=request.template_id,
        subject=request.subject,
        variables=request.variables,
        channels=[request.channel] if request.channel else [],
        only_listed_channels=request.channel is not None,
        idempotency_key=request.idempotency_key,
    )
    message = messaging.send(current_tenant(router), intent)
    return AcceptedMessage(id=message.message_id, status=message.state.status.value)


@router.get("/messages", tags=["messages"], summary="A customer's messages, newest first")
def list_messages(customer_id: Annotated[str, Query(min_length=1)]) -> MessageList:
    items = messaging.list_messages(current_tenant(router), customer_id)
    return MessageList.model_validate({"items": items, "cursor": None})
