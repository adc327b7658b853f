"""API keys and connectors of the caller's tenant."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, HttpUrl

from functions.api.schemas import (
    ApiKey,
    ApiKeyList,
    Connector,
    ConnectorList,
    ConnectorSecret,
    CreatedConnector,
    IssuedApiKey,
)
from trigly.platform import tenancy
from trigly.platform.clock import isoformat

router = APIGatewayHttpRouter()


class NewApiKey(BaseModel):
    label: str = Field(default="default", min_length=1, max_length=100)
    scopes: list[tenancy.Scope] = Field(
        min_length=1,
        description="What the key may do: `read` (every GET except keys, staff, audit and a "
        "customer's export), `marketing` (read + templates, segments, journeys, campaigns, "
        "messages, offers, scoring, referral links, loyalty redemptions, report links), "
        "`admin` (everything).",
    )


class NewConnector(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    outbound_url: HttpUrl | None = Field(
        default=None,
        description="Where Trigly posts events back: https, on a public address (a private, "
        "loopback or link-local one is refused with 422).",
    )


def _key_view(key: tenancy.ApiKeyInfo) -> ApiKey:
    return ApiKey(
        id=key.key_id,
        prefix=key.prefix,
        label=key.label,
        scopes=sorted(key.scopes),
        created_at=isoformat(key.created_at),
        revoked_at=isoformat(key.revoked_at) if key.revoked_at else None,
    )


def _connector_view(connector: tenancy.Connector) -> Connector:
    return Connector(
        id=connector.connector_id,
        name=connector.name,
        outbound_url=connector.outbound_url,
        created_at=isoformat(connector.created_at),
        webhook_path=f"/v1/webhooks/{connector.connector_id}",
    )


@router.get("/api-keys", tags=["credentials"], summary="API keys (prefix only)")
def list_api_keys() -> ApiKeyList:
    keys = tenancy.list_api_keys(router.context["tenant_id"])
    return ApiKeyList(items=[_key_view(k) for k in keys], cursor=None)


@router.post(
    "/api-keys", tags=["credentials"], summary="Issue an API key (shown once)", status_code=201
)
def issue_api_key(request: NewApiKey) -> IssuedApiKey:
    issued = tenancy.issue_api_key(router.context["tenant_id"], request.label, request.scopes)
    return IssuedApiKey(
        id=issued.key_id,
        prefix=issued.prefix,
        label=issued.label,
        scopes=sorted(issued.scopes),
        api_key=issued.api_key,
    )


@router.delete(
    "/api-keys/<key_id>", tags=["credentials"], summary="Revoke an API key", status_code=204
)
def revoke_api_key(key_id: str) -> Response[None]:
    tenancy.revoke_api_key(router.context["tenant_id"], key_id)
    return Response(status_code=204)


@router.get("/connectors", tags=["credentials"], summary="Inbound connectors")
def list_connectors() -> ConnectorList:
    connectors = tenancy.list_connectors(router.context["tenant_id"])
    return ConnectorList(items=[_connector_view(c) for c in connectors], cursor=None)


@router.post(
    "/connectors",
    tags=["credentials"],
    summary="Create a connector (secret shown once)",
    status_code=201,
)
def create_connector(request: NewConnector) -> CreatedConnector:
    outbound = str(request.outbound_url) if request.outbound_url else None
    issued = tenancy.create_connector(router.context["tenant_id"], request.name, outbound)
    return CreatedConnector(
        id=issued.connector_id,
        name=issued.name,
        secret=issued.secret,
        webhook_path=f"/v1/webhooks/{issued.connector_id}",
    )


@router.post(
    "/connectors/<connector_id>/secrets",
    tags=["credentials"],
    summary="Rotate the signing secret; the old one stays valid for 24 hours",
    status_code=201,
)
def rotate_connector_secret(connector_id: str) -> ConnectorSecret:
    secret = tenancy.rotate_connector_secret(router.context["tenant_id"], connector_id)
    return ConnectorSecret(secret=secret)
