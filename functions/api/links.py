"""Customer links (`/l/{token}`): public pages a message's links open, verified by the token.

One route per method; the token's purpose picks the page (`PAGES`). Pages are server-rendered
HTML from `trigly.web` templates: they work on a phone without JavaScript. A forged or tampered
token answers a 404 page, an expired one a 410 page — never another customer's data.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from trigly.messaging import customer_links
from trigly.platform import clock
from trigly.platform.errors import Gone, NotFound

if TYPE_CHECKING:
    from trigly.booking.service import BookingOffer
    from trigly.messaging.customer_links import CustomerLink

router = APIGatewayHttpRouter()

# "рекламные {…}": how the unsubscribe page names what stops.
CHANNEL_NAMES = {
    "sms": "SMS",
    "email": "письма",
    "telegram": "сообщения в Telegram",
    "max": "сообщения в MAX",
    "whatsapp": "сообщения в WhatsApp",
    "viber": "сообщения в Viber",
    "push": "push-уведомления",
}
# The preference centre's headings.
CHANNEL_TITLES = {
    "sms": "SMS",
    "email": "Электронная почта",
    "telegram": "Telegram",
    "max": "MAX",
    "whatsapp": "WhatsApp",
    "viber": "Viber",
    "push": "Push-уведомления",
}
TOPICS = {
    "service": {
        "title": "Напоминания о сервисе",
        "short": "напоминания",
        "hint": "ТО, шины, страховка, запись на сервис",
    },
    "marketing": {
        "title": "Акции и предложения",
        "short": "акции",
        "hint": "Скидки и спецпредложения дилера",
    },
}
# Pages are personal and carry a credential in their URL: not cached, not indexed, not framed,
# and the token never leaks through a Referer.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


def page(name: str, status_code: int = 200, **context: Any) -> Response[str]:
    """A customer page from `trigly/web/templates/{name}` with the shared look and headers."""
    from trigly.web.pages import render_page  # Jinja2 only where a page is rendered

    return Response(
        status_code=status_code,
        content_type="text/html; charset=utf-8",
        body=render_page(name, **context),
        headers=dict(HEADERS),
    )


def _error_page(error: NotFound | Gone) -> Response[str]:
    title = "Ссылка устарела" if isinstance(error, Gone) else "Ссылка не найдена"
    return page("error.html", error.status, title=title, dealer=None, gone=isinstance(error, Gone))


def _user_agent() -> str | None:
    headers = router.current_event.headers or {}
    return headers.get("user-agent") or headers.get("User-Agent")


def _form_body() -> str:
    return router.current_event.decoded_body or ""


def _page_url(token: str) -> str:
    from trigly.platform.settings import get_settings

    return f"{get_settings().public_url.rstrip('/')}/l/{token}"


# --- unsubscribe -------------------------------------------------------------------------------


def _preferences_url(link: "CustomerLink") -> str:
    return customer_links.url_for(
        "preferences",
        link.tenant.tenant_id,
        link.customer_id,
        clock.now(),
        channel=link.channel,
        message_id=link.message_id,
    )


def show_unsubscribe(link: "CustomerLink", token: str) -> Response[str]:
    from trigly.messaging import unsubscribe

    unsubscribe.check(link)
    assert link.channel is not None
    return page(
        "unsubscribe.html",
        title="Отписаться от рекламы",
        dealer=link.tenant.name,
        channel_name=CHANNEL_NAMES.get(link.channel.value, link.channel.value),
        preferences_url=_preferences_url(link),
    )


def do_unsubscribe(link: "CustomerLink", token: str) -> Response[str]:
    """The page's button (`confirm=yes`) and RFC 8058 one-click (`List-Unsubscribe=One-Click`)."""
    from trigly.messaging import unsubscribe
    from trigly.web.pages import text_version

    body = _form_body()
    unsubscribe.unsubscribe(
        link,
        method="one-click" if "List-Unsubscribe=One-Click" in body else "page",
        user_agent=_user_agent(),
        text_version=text_version("unsubscribe.html"),
    )
    return page(
        "unsubscribed.html",
        title="Вы отписаны",
        dealer=link.tenant.name,
        preferences_url=_preferences_url(link),
    )


# --- preference centre ---------------------------------------------------------------------------


def show_preferences(link: "CustomerLink", token: str) -> Response[str]:
    from trigly.messaging import preferences

    preferences.check(link)
    return page(
        "preferences.html",
        title="Настройки рассылок",
        dealer=link.tenant.name,
        rows=preferences.channels_of(link.profile),
        channel_names=CHANNEL_TITLES,
        topics=TOPICS,
    )


def save_preferences(link: "CustomerLink", token: str) -> Response[str]:
    from trigly.messaging import preferences
    from trigly.web.pages import text_version

    changes = preferences.save(
        link,
        _form_body(),
        user_agent=_user_agent(),
        text_version=text_version("preferences.html"),
    )
    return page(
        "preferences_saved.html",
        title="Настройки рассылок",
        dealer=link.tenant.name,
        changed=bool(changes),
        rows=preferences.after(link.profile, changes),
        channel_names=CHANNEL_TITLES,
        topics=TOPICS,
        page_url=_page_url(token),
    )


# --- booking -------------------------------------------------------------------------------------


def _booking_context(link: "CustomerLink", offer: "BookingOffer") -> dict[str, Any]:
    from babel.dates import format_date, format_time
    from babel.numbers import format_currency

    days: dict[str, list[dict[str, str]]] = {}
    for slot in offer.slots:
        title = format_date(slot.starts_at.date(), "EEEE, d MMMM", locale="ru").capitalize()
        days.setdefault(title, []).append(
            {"value": slot.value, "label": format_time(slot.starts_at, "HH:mm", locale="ru")}
        )
    car = offer.car
    return {
        "title": "Запись в сервис",
        "dealer": link.tenant.name,
        "car": " ".join(str(p) for p in (car.make, car.model, car.year) if p),
        "plate": car.plate,
        "service": offer.service,
        "works": None,
        "price": format_currency(offer.price, link.tenant.currency, locale="ru")
        if offer.price
        else None,
        "location": offer.location.name,
        "address": offer.location.address,
        "phone": offer.location.phone,
        "days": [{"title": title, "slots": slots} for title, slots in days.items()],
    }


def _booked_page(link: "CustomerLink", offer: "BookingOffer", starts_at: Any) -> Response[str]:
    from babel.dates import format_datetime

    context = _booking_context(link, offer)
    when = format_datetime(starts_at.astimezone(offer.zone), "EEEE, d MMMM, HH:mm", locale="ru")
    return page(
        "booked.html",
        title="Вы записаны",
        dealer=context["dealer"],
        when=when.capitalize(),
        car=context["car"],
        service=context["service"],
        location=context["location"],
        address=context["address"],
        phone=context["phone"],
        days=context["days"],  # another slot moves the booking
    )


def _any_car(link: "CustomerLink") -> bool:
    """A message's own booking link (a campaign's) names no car: the customer's car is booked.
    Any other booking link must name its car."""
    return link.message_ref is not None


def show_booking(link: "CustomerLink", token: str) -> Response[str]:
    """The car, the work, the price and the free slots; after booking, the confirmation."""
    from trigly.booking.service import booking_offer

    offer = booking_offer(link.tenant, link.customer_id, link.vin, any_car=_any_car(link))
    if link.message_ref is not None:
        # The message's own link is its click (it is not wrapped in a tracking token).
        from trigly.messaging.intent import MessageStatus
        from trigly.messaging.tracking import record_on

        record_on(link.message_ref, MessageStatus.CLICKED)
    if offer.booked is not None:
        return _booked_page(link, offer, offer.booked.starts_at)
    return page("booking.html", **_booking_context(link, offer), taken=False, invalid=False)


def do_booking(link: "CustomerLink", token: str) -> Response[str]:
    """`slot=<ISO start>` books it (or moves the car's booking there): `303` to the
    confirmation (the same link, now booked); a slot taken meanwhile `409`, a slot that is not
    a time `422` — both with the page showing the slots still free (a person reads it)."""
    from urllib.parse import parse_qs

    from trigly.booking.service import BookingChanged, SlotTaken, book, booking_offer, cancel
    from trigly.platform.errors import ValidationFailed

    form = parse_qs(_form_body())
    if form.get("action") == ["cancel"]:
        cancel(link.tenant, link.customer_id, link.vin, any_car=_any_car(link))
        return _see_other(token)
    slot = (form.get("slot") or [""])[0]
    try:
        book(link.tenant, link.customer_id, link.vin, slot, message=link.message_ref)
    except BookingChanged:
        return _see_other(token)  # another tap from this page booked first: show that booking
    except (SlotTaken, ValidationFailed) as error:
        offer = booking_offer(link.tenant, link.customer_id, link.vin, any_car=_any_car(link))
        taken = isinstance(error, SlotTaken)
        return page(
            "booking.html",
            409 if taken else 422,
            **_booking_context(link, offer),
            taken=taken,
            invalid=not taken,
        )
    return _see_other(token)


def _see_other(token: str) -> Response[str]:
    """Back to the same link after a POST: it shows the booking (or the slots) as they stand."""
    return Response(
        status_code=303,
        content_type="text/html; charset=utf-8",
        body="",
        headers={**HEADERS, "Location": f"/l/{token}"},
    )


Handler = Callable[["CustomerLink", str], Response[str]]
# purpose → (GET page, POST action); a purpose not listed is a 404.
PAGES: dict[str, tuple[Handler, Handler]] = {
    "unsubscribe": (show_unsubscribe, do_unsubscribe),
    "preferences": (show_preferences, save_preferences),
    "booking": (show_booking, do_booking),
}


def _dispatch(token: str, method: int) -> Response[str]:
    try:
        link = customer_links.open_link(token)
        handlers = PAGES.get(link.purpose)
        if handlers is None:
            raise NotFound("No such link.")
        return handlers[method](link, token)
    except (NotFound, Gone) as error:
        return _error_page(error)


@router.get("/l/<token>", include_in_schema=False)
def open_link(token: str) -> Response[str]:
    return _dispatch(token, 0)


@router.post("/l/<token>", include_in_schema=False)
def act_on_link(token: str) -> Response[str]:
    """Forms post back to their own link (CSRF is covered by the signed token)."""
    return _dispatch(token, 1)
