"""Email through Amazon SES (on the local stack: moto's SES, the real API).

Each message is a raw MIME email with a plain-text part (and its template's HTML part, with
the open pixel, when it has one), from the deployment's verified sender.
`X-Trigly-*` headers carry our message id, customer, kind and purpose, so delivery events and the
local outbox can tie a mail back to its message without a lookup.
"""

import html
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from trigly.channels.provider import Accepted
from trigly.messaging.message import StoredMessage
from trigly.platform import aws, clock
from trigly.platform.settings import get_settings


def message_place(message: StoredMessage) -> str:
    """The message's sort key as the send path builds it from its creation time and id."""
    from trigly.profiles.records import newest_first
    from trigly.store.messages import message_sk

    return message_sk(newest_first(message.created_at), message.message_id)


class SesProvider:
    def __init__(self, sender: str, sender_name: str = "") -> None:
        self.sender = sender
        self.sender_name = sender_name

    def mime(self, message: StoredMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = (
            formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        )
        mail["To"] = message.to or ""
        mail["Subject"] = message.subject or ""
        mail["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        mail["X-Trigly-Message-Id"] = message.message_id
        mail["X-Trigly-Customer-Id"] = message.customer_id
        mail["X-Trigly-Kind"] = message.kind
        mail["X-Trigly-Purpose"] = message.purpose.value
        # Where the message is stored: an SES event for a message whose worker died after SES
        # took it (no provider-id lookup) still finds it (messaging/feedback.py reconciles).
        mail["X-Trigly-Message-Ref"] = f"{message.customer_id} {message_place(message)}"
        unsubscribe = next(
            (link["url"] for link in message.links if link["purpose"] == "unsubscribe"), None
        )
        if unsubscribe:
            # RFC 8058: mail clients show "Unsubscribe" and POST to the link in one click.
            mail["List-Unsubscribe"] = f"<{unsubscribe}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(message.body or "")
        body = message.html()
        if body is None and message.open_pixel:
            # An HTML alternative carries the open pixel (the text part stays the message).
            text = html.escape(message.body or "").replace("\n", "<br>\n")
            body = f"<html><body><p>{text}</p></body></html>"
        if body is not None:
            if message.open_pixel:
                pixel = html.escape(message.open_pixel, quote=True)
                img = f'<img src="{pixel}" width="1" height="1" alt="">'
                at = body.rfind("</body>")
                body = body[:at] + img + body[at:] if at >= 0 else body + img
            mail.add_alternative(body, subtype="html")
        return mail

    @staticmethod
    def _with_tenant(mail: EmailMessage, tenant_id: str) -> EmailMessage:
        mail["X-Trigly-Tenant-Id"] = tenant_id  # as the `tenant` tag: events name the tenant
        return mail

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        # One verified sender per deployment for now; per-tenant senders later. The configuration
        # set publishes delivery, bounce, complaint, open and click events (template.yaml), and
        # the `tenant` tag tells the feedback worker whose message an event is about.
        extra: dict[str, Any] = {}
        configuration_set = get_settings().ses_configuration_set
        if configuration_set:
            extra["ConfigurationSetName"] = configuration_set
        response = aws.ses().send_raw_email(
            Source=self.sender,
            Destinations=[message.to or ""],
            RawMessage={"Data": self._with_tenant(self.mime(message), tenant_id).as_bytes()},
            Tags=[{"Name": "tenant", "Value": tenant_id}],
            **extra,
        )
        return Accepted(provider_message_id=response["MessageId"], at=clock.now())
