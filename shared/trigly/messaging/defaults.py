"""Built-in templates of the built-in playbooks, in Russian, for every channel.

A tenant overrides one by saving a template with the same id (`PUT /v1/templates/{id}`); until
then these are what its journeys send. Variables: `customer`, `car`, `maintenance`, `location`,
`appointment`, `test_drive`, `sale`, `order`, `visit`, `milestone`, `links` (see
docs/journeys.md).
"""

import re
from functools import lru_cache

from trigly.messaging.templates import Button, EmailVariant, MessageTemplate, TelegramVariant

_CAR = "{{ car.make }} {{ car.model }}{% if car.plate %} ({{ car.plate }}){% endif %}"
_HELLO = "{% if customer.name %}{{ customer.name }}, з{% else %}З{% endif %}дравствуйте!"

_MAINTENANCE = (
    _HELLO + " Вашему " + _CAR + " пора на {{ maintenance.service }}"
    "{% if maintenance.due_km and 'км' not in (maintenance.service or '') %}"
    " (пробег около {{ maintenance.due_km|number }} км){% endif %}."
    "{% if maintenance.price %} Стоимость работ — {{ maintenance.price|money }}.{% endif %}"
    "{% if offer %} {{ offer.text }}{% endif %}"
    " Выберите удобное время: {{ links.booking }}"
)
_NUDGE = (
    _HELLO + " Напоминаем: " + _CAR + " ждёт {{ maintenance.service }}."
    "{% if maintenance.price %} Стоимость — {{ maintenance.price|money }}.{% endif %}"
    " Свободное время в сервисе: {{ links.booking }}"
)
_CONFIRMATION = (
    "{% if appointment.moved_from %}Ваша запись перенесена: сервис{% else %}"
    "Вы записаны в сервис{% endif %}{% if location.name %} «{{ location.name }}»{% endif %}"
    " {{ appointment.starts_at|datetime }}"
    "{% if car.make %}, {{ car.make }} {{ car.model }}{% endif %}."
    "{% if location.address %} Адрес: {{ location.address }}.{% endif %}"
)
_REMINDER = (
    "Ждём вас завтра {{ appointment.starts_at|time }}"
    "{% if location.name %} в сервисе «{{ location.name }}»{% endif %}"
    "{% if location.address %}, {{ location.address }}{% endif %}."
    "{% if location.phone %} Если планы изменились, позвоните: {{ location.phone }}.{% endif %}"
)
_NPS = (
    _HELLO + " Спасибо, что доверили нам ваш автомобиль. Оцените, пожалуйста, визит от 0 до 10"
    " — насколько вероятно, что вы порекомендуете нас друзьям? Просто ответьте цифрой."
)


# Other playbooks. `location` is none when the tenant has none that fits, so it is always
# guarded; `test_drive`, `sale`, `order`, `visit` and `milestone` are there whenever their
# playbook runs, each key present (none when the DMS did not send it).
_PHONE = "{% if location and location.phone %} Телефон: {{ location.phone }}.{% endif %}"
_TD_CONFIRMATION = (
    "Вы записаны на тест-драйв {{ test_drive.model }} {{ test_drive.starts_at|datetime }}"
    "{% if location and location.address %}, {{ location.address }}{% endif %}."
    " Возьмите водительское удостоверение."
)
_TD_REMINDER = (
    "Ждём вас завтра в {{ test_drive.starts_at|time }} на тест-драйв {{ test_drive.model }}"
    "{% if location and location.address %}: {{ location.address }}{% endif %}."
    "{% if location and location.phone %} Если планы изменились: {{ location.phone }}.{% endif %}"
)
_TD_FEEDBACK = (
    _HELLO + " Спасибо, что приехали на тест-драйв {{ test_drive.model }}. Как вам автомобиль?"
    " Ответьте на это сообщение — менеджер учтёт ваши пожелания и ответит на вопросы."
)
_TD_OFFER = (
    _HELLO + " Мы подготовили для вас персональные условия на {{ test_drive.model }}:"
    " кредит, трейд-ин и подарки при покупке в этом месяце." + _PHONE
)
_TD_INVITATION = (
    _HELLO + " Приезжайте ещё раз на {{ test_drive.model }} — всей семьёй: пусть близкие тоже"
    " оценят салон и багажник." + _PHONE
)
_WELCOME = (
    _HELLO + " Поздравляем с покупкой {{ sale.make }} {{ sale.model }}! Мы рядом, если нужна"
    " помощь{% if location and location.name %}: «{{ location.name }}»{% endif %}"
    "{% if location and location.phone %}, {{ location.phone }}{% endif %}."
    " О первом ТО напомним заранее."
)
_CARE_TIPS = (
    _HELLO + " Месяц с {{ sale.make }} {{ sale.model }}: проверьте давление в шинах и уровень"
    " жидкостей. Для вашей модели есть оригинальные аксессуары — коврики, защита картера,"
    " фаркоп." + _PHONE
)
_NEW_OWNER_TYRES = (
    _HELLO + " Полгода с {{ sale.make }} {{ sale.model }} — скоро сезон смены шин."
    " Для новых владельцев шиномонтаж и хранение шин на особых условиях: {{ links.booking }}"
)
_ANNIVERSARY = (
    _HELLO + " Год назад вы выбрали {{ sale.make }} {{ sale.model }} — спасибо, что вы с нами!"
    " Продлите заводскую гарантию расширенной, пока она действует." + _PHONE
)
_TYRES = (
    _HELLO + " Скоро пора менять шины на"
    " {% if milestone.season == 'winter' %}зимние{% else %}летние{% endif %}."
    " Запишите " + _CAR + " на шиномонтаж: {{ links.booking }}"
)
_INSURANCE_RENEWAL = (
    _HELLO + " {{ milestone.ends_on|date }} заканчивается полис"
    " {% if milestone.policy_kind == 'kasko' %}КАСКО{% elif milestone.policy_kind == 'osago' %}"
    "ОСАГО{% else %}страхования{% endif %} на " + _CAR + ". Продлите его у нас." + _PHONE
)
_WARRANTY_END = (
    _HELLO + " {{ milestone.ends_on|date }} заканчивается гарантия на " + _CAR + "."
    " Пройдите диагностику, пока ремонт по гарантии бесплатный: {{ links.booking }}"
)
_FINANCING_END = (
    _HELLO + " {{ milestone.ends_on|date }} заканчивается"
    " {% if milestone.type == 'lease' %}лизинг{% else %}кредит{% endif %} за " + _CAR + "."
    " Обменяйте его на новый по трейд-ин — оценим за 30 минут." + _PHONE
)
_TRADE_IN = (
    _HELLO + " Вашему " + _CAR + " {{ milestone.age|plural('год', 'года', 'лет') }}. Узнайте,"
    " сколько он стоит сегодня, и обменяйте на новый по трейд-ин." + _PHONE
)
_BIRTHDAY = (
    "{% if customer.name %}{{ customer.name }}, с{% else %}С{% endif %} днём рождения!"
    " Желаем лёгких дорог и хорошего настроения. В честь праздника для вас подарок в нашем"
    " сервисе." + _PHONE
)
_LEFT = (
    _HELLO + " Спасибо, что заглянули к нам{% if visit.model %} посмотреть {{ visit.model }}"
    "{% endif %}. Мы подготовили для вас персональное предложение." + _PHONE
)
_LEFT_USED = (
    _HELLO + " Если новый{% if visit.model %} {{ visit.model }}{% else %} автомобиль{% endif %}"
    " вышел дороже, чем хотелось, посмотрите автомобили с пробегом: проверенные, с гарантией,"
    " в кредит{% if visit.budget %} — подберём до {{ visit.budget|money }}{% endif %}." + _PHONE
)
_ORDER_STATUS = (
    "Ваш автомобиль {% if order.status == 'ordered' %}заказан у производителя"
    "{% elif order.status == 'produced' %}произведён на заводе"
    "{% elif order.status == 'shipped' %}отгружен и едет к нам"
    "{% elif order.status == 'arrived' %}прибыл в дилерский центр"
    "{% elif order.status == 'ready' %}готов к выдаче"
    "{% else %}сменил статус{% endif %} (заказ {{ order.order_id }})."
    "{% if order.eta and order.status != 'ready' %} Ожидаем {{ order.eta|date }}.{% endif %}"
    "{% if order.status == 'ready' %}{% if location and location.address %}"
    " Ждём вас: {{ location.address }}.{% endif %}{% endif %}"
)


_BOOKING_LINK = re.compile(r":\s*\{\{ links\.booking \}\}")

# The one email layout of the built-in templates (MJML): the dealer's name, the message, a
# button for `links.booking` when the message has one, and a footer with the links messaging
# adds (unsubscribe for marketing, the preference centre for marketing and service). The
# message's own Jinja source takes the slot's place after compiling, so the layout is compiled
# once for all of them (`template`), lazily: MJML is imported only where an email is rendered.
_SLOT = "@@message@@"
_HAS = "{% if links is defined and links.KEY is defined and links.KEY %}"
EMAIL_LAYOUT = (
    """<mjml>
  <mj-head>
    <mj-attributes>
      <mj-all font-family="Arial, Helvetica, sans-serif" />
      <mj-text font-size="16px" line-height="1.5" color="#222222" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f2f3f5">
    <mj-section background-color="#1f2a44" padding="16px 24px">
      <mj-column>
        <mj-text color="#ffffff" font-size="18px" font-weight="bold">"""
    """{% if dealer is defined and dealer.name %}{{ dealer.name }}{% else %}Ваш дилер{% endif %}"""
    """</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="24px 8px">
      <mj-column>
        <mj-text>"""
    + _SLOT
    + """</mj-text>
        <mj-raw>"""
    + _HAS.replace("KEY", "booking")
    + """</mj-raw>
        <mj-button href="{{ links.booking }}" background-color="#1f6feb" font-size="16px"
          border-radius="6px" inner-padding="12px 28px">Записаться онлайн</mj-button>
        <mj-raw>{% endif %}</mj-raw>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px">
      <mj-column>
        <mj-text font-size="12px" color="#6b7280" align="center">Вы получили это письмо"""
    """ как клиент дилера."""
    + _HAS.replace("KEY", "preferences")
    + """<br><a href="{{ links.preferences }}" style="color:#6b7280">Настроить рассылки</a>"""
    """{% endif %}"""
    + _HAS.replace("KEY", "unsubscribe")
    + """<br><a href="{{ links.unsubscribe }}" style="color:#6b7280">Отписаться</a>"""
    """{% endif %}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
)


def _email_message(text: str) -> str:
    """A text's Jinja source as the layout's message: the booking link is the button."""
    return _BOOKING_LINK.sub(" — по кнопке ниже.", text).strip()


@lru_cache(maxsize=1)
def compiled_layout() -> str:
    from trigly.messaging.templates import compile_mjml

    return compile_mjml(EMAIL_LAYOUT.replace(_SLOT, "{{ message }}"))


def template(template_id: str) -> MessageTemplate | None:
    """The built-in template with its email's HTML from the layout compiled once."""
    found = DEFAULT_TEMPLATES.get(template_id)
    if found is None or found.email is None or found.email.mjml is None:
        return found
    message = _email_message(found.text or "")
    html = compiled_layout().replace("{{ message }}", message, 1)
    email = found.email.model_copy(update={"compiled_html": html})
    return found.model_copy(update={"email": email})


def _template(template_id: str, text: str, subject: str) -> MessageTemplate:
    """Every channel's variant of one text. A text that ends with the booking link gets a
    Telegram variant with the link as a button instead (booking from Telegram in one tap); the
    email is the text in the shared layout (HTML) and the text itself (plain-text part)."""
    telegram = None
    if "{{ links.booking }}" in text:
        telegram = TelegramVariant(
            text=_email_message(text),
            buttons=(Button(text="Записаться онлайн", url="{{ links.booking }}"),),
        )
    mjml = EMAIL_LAYOUT.replace(_SLOT, _email_message(text))
    return MessageTemplate(
        template_id=template_id,
        text=text,
        email=EmailVariant(subject=subject, mjml=mjml, text=text),
        telegram=telegram,
    )


DEFAULT_TEMPLATES: dict[str, MessageTemplate] = {
    t.template_id: t
    for t in (
        _template("maintenance_reminder", _MAINTENANCE, "Пора на техническое обслуживание"),
        _template("maintenance_nudge", _NUDGE, "Запишитесь на техническое обслуживание"),
        _template("booking_confirmation", _CONFIRMATION, "Вы записаны в сервис"),
        _template("booking_reminder", _REMINDER, "Ждём вас завтра"),
        _template("nps_request", _NPS, "Как прошёл визит?"),
        _template("test_drive_confirmation", _TD_CONFIRMATION, "Вы записаны на тест-драйв"),
        _template("test_drive_reminder", _TD_REMINDER, "Тест-драйв завтра"),
        _template("test_drive_feedback", _TD_FEEDBACK, "Как прошёл тест-драйв?"),
        _template("test_drive_offer", _TD_OFFER, "Персональное предложение для вас"),
        _template("test_drive_invitation", _TD_INVITATION, "Приезжайте всей семьёй"),
        _template("welcome", _WELCOME, "Поздравляем с покупкой!"),
        _template("care_tips", _CARE_TIPS, "Советы по уходу и аксессуары"),
        _template("new_owner_tyres", _NEW_OWNER_TYRES, "Скоро сезон смены шин"),
        _template("purchase_anniversary", _ANNIVERSARY, "Год вместе"),
        _template("tyre_season", _TYRES, "Пора менять шины"),
        _template("insurance_renewal", _INSURANCE_RENEWAL, "Пора продлить страховку"),
        _template("warranty_end", _WARRANTY_END, "Гарантия скоро закончится"),
        _template("financing_end", _FINANCING_END, "Кредит закрывается: время для трейд-ина"),
        _template("trade_in", _TRADE_IN, "Сколько стоит ваш автомобиль сегодня"),
        _template("birthday", _BIRTHDAY, "С днём рождения!"),
        _template("left_without_buying", _LEFT, "Персональное предложение для вас"),
        _template("left_without_buying_used", _LEFT_USED, "Автомобили с пробегом для вас"),
        _template("order_status", _ORDER_STATUS, "Статус вашего заказа"),
    )
}
