"""Built-in templates of the built-in playbooks, in Russian, for every channel.

A tenant overrides one by saving a template with the same id (`PUT /v1/templates/{id}`); until
then these are what its journeys send. Variables: `customer`, `car`, `maintenance`, `location`,
`appointment`, `test_drive`, `links` (see docs/journeys.md).
"""

from trigly.messaging.templates import EmailVariant, MessageTemplate, TelegramVariant

_CAR = "{{ car.make }} {{ car.model }}{% if car.plate %} ({{ car.plate }}){% endif %}"
_HELLO = "{% if customer.name %}{{ customer.name }}, з{% else %}З{% endif %}дравствуйте!"

_MAINTENANCE = (
    _HELLO + " Вашему " + _CAR + " пора на {{ maintenance.service }}"
    "{% if maintenance.due_km %} (пробег около {{ maintenance.due_km|number }} км){% endif %}."
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
    "Вы записаны в сервис{% if location.name %} «{{ location.name }}»{% endif %}"
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


def _template(
    template_id: str, text: str, subject: str, button: str | None = None
) -> MessageTemplate:
    return MessageTemplate(
        template_id=template_id,
        text=text,
        email=EmailVariant(subject=subject, text=text),
        telegram=None if button is None else TelegramVariant(text=text),
    )


DEFAULT_TEMPLATES: dict[str, MessageTemplate] = {
    t.template_id: t
    for t in (
        _template("maintenance_reminder", _MAINTENANCE, "Пора на техническое обслуживание"),
        _template("maintenance_nudge", _NUDGE, "Запишитесь на техническое обслуживание"),
        _template("booking_confirmation", _CONFIRMATION, "Вы записаны в сервис"),
        _template("booking_reminder", _REMINDER, "Ждём вас завтра"),
        _template("nps_request", _NPS, "Как прошёл визит?"),
    )
}
