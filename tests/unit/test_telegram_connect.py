"""Connecting a tenant's Telegram bot: the username's shape, the Bot API's answers, and which
templates ask for a deep link."""

import httpx
import pytest
import respx
from pydantic import ValidationError

from trigly.channels import telegram
from trigly.channels.credentials import CREDENTIALS, TelegramCredentials
from trigly.channels.provider import OutcomeUnknown
from trigly.messaging.templates import EmailVariant, MessageTemplate

TOKEN = "7012345678:AAH0vF1p2Q3r4S5t6U7v8W9x0Y1z2A3b4C5"
BASE = "https://bot.test"


def test_a_bot_username_is_kept_without_its_at_sign_and_checked() -> None:
    given = CREDENTIALS.validate_python(
        {"provider": "telegram", "bot_token": TOKEN, "bot_username": " @Dealer_Bot "}
    )
    assert isinstance(given, TelegramCredentials) and given.bot_username == "Dealer_Bot"
    for bad in ("ab", "1dealer_bot", "dealer bot", "x" * 40):
        with pytest.raises(ValidationError):
            CREDENTIALS.validate_python(
                {"provider": "telegram", "bot_token": TOKEN, "bot_username": bad}
            )


def test_bot_api_calls_return_the_result_or_say_why_not() -> None:
    with respx.mock(base_url=BASE) as api:
        api.post(f"/bot{TOKEN}/getMe").mock(
            return_value=httpx.Response(200, json={"ok": True, "result": {"username": "a_bot"}})
        )
        api.post(f"/bot{TOKEN}/setWebhook").mock(
            return_value=httpx.Response(
                400, json={"ok": False, "error_code": 400, "description": "bad webhook: HTTPS"}
            )
        )
        api.post(f"/bot{TOKEN}/deleteWebhook").mock(return_value=httpx.Response(502))
        assert telegram.bot_call(TOKEN, "getMe", base_url=BASE) == {"username": "a_bot"}
        with pytest.raises(telegram.BotApiRefused) as refused:
            telegram.bot_call(TOKEN, "setWebhook", {"url": "http://x"}, base_url=BASE)
        assert refused.value.status == 400 and "HTTPS" in refused.value.description
        with pytest.raises(OutcomeUnknown):
            telegram.bot_call(TOKEN, "deleteWebhook", base_url=BASE)


def test_a_deep_link_names_the_bot_and_the_token() -> None:
    assert telegram.deep_link("a_bot", "tok-1") == "https://t.me/a_bot?start=tok-1"


@pytest.mark.parametrize(
    ("template", "uses"),
    [
        (MessageTemplate(template_id="t", sms="{{ links.telegram }}"), True),
        (MessageTemplate(template_id="t", text="{{ links['telegram'] }}"), True),
        (MessageTemplate(template_id="t", text="{{ links.telegram_x }}"), False),
        (MessageTemplate(template_id="t", text="{{ links.booking }} telegram"), False),
        (
            MessageTemplate(
                template_id="t",
                email=EmailVariant(
                    subject="s",
                    mjml='<mjml><mj-body><mj-button href="{{ links.telegram }}">Tg'
                    "</mj-button></mj-body></mjml>",
                ),
            ),
            True,
        ),
    ],
)
def test_only_templates_that_show_the_link_make_one(template: MessageTemplate, uses: bool) -> None:
    assert template.uses_link("telegram") is uses
