"""Customer links (`/l/{token}`): public pages a message's links open, verified by the token."""

from html import escape

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from trigly.messaging import unsubscribe

router = APIGatewayHttpRouter()

CHANNEL_NAMES = {
    "sms": "SMS",
    "email": "письма",
    "telegram": "Telegram",
    "max": "MAX",
    "whatsapp": "WhatsApp",
    "viber": "Viber",
    "push": "push-уведомления",
}


def _page(title: str, body: str) -> Response[str]:
    html = f"""<!doctype html><html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
button{{font-size:1.1rem;padding:.8rem 1.2rem;width:100%}}</style></head>
<body><h1>{escape(title)}</h1>{body}</body></html>"""
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=html)


@router.get("/l/<token>", include_in_schema=False)
def open_link(token: str) -> Response[str]:
    link = unsubscribe.open_link(token)
    channel = CHANNEL_NAMES.get(link.channel.value, link.channel.value)
    return _page(
        "Отписаться от рекламы",
        f"<p>Больше не присылать рекламные {escape(channel)}? Напоминания о записи и "
        f"обслуживании вашего автомобиля продолжат приходить.</p>"
        f'<form method="post"><button type="submit">Отписаться</button></form>',
    )


@router.post("/l/<token>", include_in_schema=False)
def act_on_link(token: str) -> Response[str]:
    """The page's button and RFC 8058 one-click (`List-Unsubscribe=One-Click`) land here."""
    unsubscribe.unsubscribe(unsubscribe.open_link(token))
    return _page("Вы отписаны", "<p>Рекламных сообщений по этому каналу больше не будет.</p>")
