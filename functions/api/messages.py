"""Messages: one-off sends through the one send path, and a customer's messages."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, JsonValue, model_validator

from functions.api.context import current_tenant
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
    template_id: str | None = Field(default=None, min_length=1, max_length=100)
    subject: str | None = Field(default=None, min_length=1, max_length=300, description="For email")
    channel: Channel | None = None
    variables: dict[str, JsonValue] = Field(default_factory=dict)
    idempotency_key: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_body(self) -> "NewMessage":
        if (self.text is None) == (self.template_id is None):
            raise ValueError("give either `text` or `template_id`")
        return self


@router.post("/messages", tags=["messages"], summary="Send one message now (guardrails apply)")
def send_message(request: NewMessage) -> Response[dict[str, Any]]:
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
    body = {"id": message.message_id, "status": message.state.status.value}
    return Response(status_code=202, content_type="application/json", body=body)


@router.get("/messages", tags=["messages"], summary="A customer's messages, newest first")
def list_messages(customer_id: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    return {"items": messaging.list_messages(current_tenant(router), customer_id), "cursor": None}
