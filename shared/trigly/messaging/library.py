"""The tenant's message templates: saved after checking every part compiles in the sandbox,
previewed with a customer's real data on every channel the template speaks on."""

from typing import Any

from trigly.messaging.templates import (
    MessageTemplate,
    TemplateError,
    check_template,
    customer_variables,
    preview,
)
from trigly.messaging.timezones import resolve_zone
from trigly.platform.errors import FieldError, NotFound, ValidationFailed
from trigly.platform.tenancy import Tenant
from trigly.store import customers as customer_store
from trigly.store import tenants as store


def save_template(tenant: Tenant, template: MessageTemplate) -> MessageTemplate:
    """Checked, with its MJML compiled once (renders then only fill the compiled HTML)."""
    if template.email is not None and template.email.mjml is not None:
        try:
            email = template.email.compiled()
        except TemplateError as exc:
            raise ValidationFailed(errors=[FieldError(exc.part, exc.message)]) from exc
        template = template.model_copy(update={"email": email})
    problems = check_template(template)
    if problems:
        raise ValidationFailed(errors=[FieldError(p.part, p.message) for p in problems])
    store.put_template(tenant.tenant_id, template.template_id, template.model_dump_json())
    return template


def get_template(tenant: Tenant, template_id: str) -> MessageTemplate:
    """The tenant's own template, else the built-in one of that id (the playbooks' defaults)."""
    from trigly.messaging import defaults

    doc = store.get_template(tenant.tenant_id, template_id)
    if doc is not None:
        return MessageTemplate.model_validate_json(doc)
    built_in = defaults.template(template_id)
    if built_in is None:
        raise NotFound("No such template.")
    return built_in


def list_templates(tenant: Tenant) -> list[MessageTemplate]:
    return [
        MessageTemplate.model_validate_json(doc) for doc in store.list_templates(tenant.tenant_id)
    ]


def delete_template(tenant: Tenant, template_id: str) -> None:
    get_template(tenant, template_id)
    store.delete_template(tenant.tenant_id, template_id)


def preview_template(
    tenant: Tenant, template_id: str, customer_id: str, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each channel's message for this customer, or why it cannot be made (SMS with segments)."""
    template = get_template(tenant, template_id)
    loaded = customer_store.load_profile(tenant.tenant_id, customer_id)
    if loaded is None:
        raise NotFound("No such customer.")
    zone = resolve_zone(loaded[0], location_timezone=None, tenant_timezone=tenant.timezone).zone
    values = {
        **variables,
        "customer": customer_variables(loaded[0]),
        "dealer": {"name": tenant.name},
        "offer": None,
    }
    out = []
    for item in preview(template, values, zone=zone, currency=tenant.currency):
        entry: dict[str, Any] = {"channel": item.channel.value}
        if item.rendered is not None:
            entry |= {"subject": item.rendered.subject, "text": item.rendered.text}
            if item.rendered.html is not None:
                entry["html"] = item.rendered.html
            if item.rendered.sms is not None:
                entry["sms"] = {
                    "encoding": item.rendered.sms.encoding,
                    "length": item.rendered.sms.length,
                    "segments": item.rendered.sms.segments,
                }
            if item.rendered.buttons:
                entry["buttons"] = [{"text": b.text, "url": b.url} for b in item.rendered.buttons]
            if item.rendered.provider_template is not None:  # WhatsApp's approved template
                entry["template"] = item.rendered.provider_template
        else:
            entry["error"] = str(item.error)
        out.append(entry)
    return out
