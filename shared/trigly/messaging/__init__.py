"""Messaging: the one send path every journey, campaign and `POST /v1/messages` goes through.

At its heart a pure core — plain typed Python, no AWS, no I/O. The flow for one message:

1. `intent.SendIntent` — who, why (`transactional` / `service` / `marketing`), what (template
   or text, variables, an optional offer), where preferred, priority, idempotency key, and what
   to do if it may not go now (`queue_until_allowed` or `skip`).
2. `decision.decide` — the guardrails in their order (`guardrails`): consent for the channel and
   purpose and the suppression list while `channels.choose_channel` walks the preferred
   channels and the tenant's cascade; then the frequency cap; then quiet hours in the
   recipient's zone (`timezones`). The answer: `SendNow` (channel, address, offer or not),
   `Hold` (until when, why) or `Refuse` (`suppressed`/`failed` with the reason).
3. `rendering.render` — the template's variant for that channel in a Jinja2 sandbox, strict
   about missing variables, with Russian formatting; SMS with its segment count.
4. `intent.record` — every fact (held, sent, delivered, clicked, failed...) applied to the
   message's status history, idempotent and never backwards under late callbacks.
5. `channels.fallback_at` — when to try the next channel (a failure at once; no reaction within
   the channel's wait), deciding again with the channels already tried excluded.

The I/O layer around it (`service`, `delivery`) claims the message by its idempotency key before
any provider call, reads the customer, suppression entries and the cap ledger (`caps`: places
taken with a conditional write), persists what this core decides and queues the message for its
channel's worker (`queue`). What a tenant sets is
`policy.MessagingSettings` (`settings`: `GET`/`PUT /v1/settings/messaging`); a decision reads it
as `policy.MessagingPolicy`.
"""
