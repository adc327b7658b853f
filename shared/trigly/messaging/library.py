"""The tenant's message templates: saved after checking every part compiles in the sandbox,
previewed with a customer's real data on every channel the template speaks on."""

from typing import Any

from trigly.messaging.rendering import customer_variables, preview
from trigly.messaging.sandbox import check_template
from trigly.messaging.templates import MessageTemplate, TemplateError
from trigly.messaging.timezones import resolve_zone
from trigly.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from trigly.platform.tenancy import Tenant
from trigly.profiles.records import CustomerHistory
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
    """The tenant's own templates and every built-in one it has not replaced, by id: the list
    holds exactly what `get_template` reads."""
    from trigly.messaging import defaults

    own = {
        t.template_id: t
        for t in (
            MessageTemplate.model_validate_json(doc)
            for doc in store.list_templates(tenant.tenant_id)
        )
    }
    built_in = {
        template_id: defaults.template(template_id) for template_id in defaults.DEFAULT_TEMPLATES
    }
    merged = {k: v for k, v in built_in.items() if v is not None} | own
    return [merged[template_id] for template_id in sorted(merged)]


def delete_template(tenant: Tenant, template_id: str) -> None:
    """Deletes the tenant's own template (a built-in one of that id applies again); a built-in
    template itself cannot be deleted, only replaced."""
    if store.get_template(tenant.tenant_id, template_id) is None:
        get_template(tenant, template_id)  # 404 when there is none at all
        raise Conflict("A built-in template cannot be deleted; save one under its id instead.")
    store.delete_template(tenant.tenant_id, template_id)


# Where a real message has signed links, a preview shows these (they open nothing).
PREVIEW_LINKS = ("booking", "unsubscribe", "preferences", "telegram")


def customer_values(tenant: Tenant, history: CustomerHistory, vin: str | None) -> dict[str, Any]:
    """What a journey would give the template about the customer's car: `car` (the named one,
    else the newest car they own), its next `maintenance` with the price a reminder quotes, and
    `location` (none: a preview has no booking)."""
    from trigly.lifecycle.prices import price_key
    from trigly.store import prices

    owned = [c for c in history.cars if c.until is None] or list(history.cars)
    wanted = vin.strip().upper() if vin else None  # VINs are stored upper-case
    car = next((c for c in owned if c.vin == wanted), None) if wanted else None
    if vin and car is None:
        raise ValidationFailed(errors=[FieldError("vin", "not a car of this customer")])
    car = car or max(owned, key=lambda c: c.since, default=None)
    values: dict[str, Any] = {"car": None, "maintenance": None, "location": None}
    if car is None:
        return values
    values["car"] = car.model_dump(mode="json")
    due = car.next_maintenance or {}
    number = due.get("number")
    values["maintenance"] = {
        "service": due.get("service"),
        "due_km": due.get("due_km"),
        "due_on": due.get("due_on"),
        "price": prices.quote(tenant.tenant_id, price_key(car.make, car.model, number))
        if isinstance(number, int)
        else None,
    }
    return values


def preview_template(
    tenant: Tenant,
    template_id: str,
    customer_id: str,
    variables: dict[str, Any],
    vin: str | None = None,
) -> list[dict[str, Any]]:
    """Each channel's message for this customer, or why it cannot be made (SMS with segments):
    the customer's own data (name, car, its next service and price) under the caller's
    `variables`, which may add or override (field by field) anything but `customer` and
    `dealer`."""
    from trigly.platform.settings import get_settings
    from trigly.profiles.service import load_customer

    template = get_template(tenant, template_id)
    loaded = load_customer(tenant.tenant_id, customer_id)
    if loaded is None:
        raise NotFound("No such customer.")
    profile, history = loaded
    zone = resolve_zone(profile, location_timezone=None, tenant_timezone=tenant.timezone).zone
    base = f"{get_settings().public_url.rstrip('/')}/l/preview"
    own: dict[str, Any] = {
        "links": {name: f"{base}-{name}" for name in PREVIEW_LINKS},
        **customer_values(tenant, history, vin),
        "offer": None,
    }
    # The caller's values win, field by field: `{"car": {"model": "Vesta"}}` keeps the rest.
    values = {
        **own,
        **{
            k: {**own[k], **v} if isinstance(own.get(k), dict) and isinstance(v, dict) else v
            for k, v in variables.items()
        },
        "customer": customer_variables(profile),
        "dealer": {"name": tenant.name},
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
