#!/usr/bin/env bash
# Sends one signed DMS event to Trigly (Standard Webhooks): what a DMS integration does.
#   API_URL=http://127.0.0.1:3000 CONNECTOR_ID=con_... WEBHOOK_SECRET=whsec_... ./send-event.sh [event.json]
# With .trigly/local.json from `make run`, the three variables can be read from it (see README).
# The example person (EX-1001, 8 (915) 204-18-77) is not one of the demo's customers: sending it
# adds a customer of its own and touches nobody else.
set -euo pipefail
: "${API_URL:?}" "${CONNECTOR_ID:?}" "${WEBHOOK_SECRET:?}"

if [ $# -gt 0 ]; then
  BODY=$(cat "$1")
else
  BODY='{"id":"dms-cust-ex-1001","type":"customer.upserted","occurred_at":"2026-11-20T10:15:00+03:00","data":{"external_id":"EX-1001","first_name":"Иван","last_name":"Петров","phones":["8 (915) 204-18-77"],"emails":["ivan.petrov@example.ru"],"consents":{"sms":{"service":true,"marketing":false,"at":"2026-11-20T10:00:00+03:00","source":"service desk"}}}}'
fi

MSG_ID="msg_$(date +%s%N)"           # per delivery; the event's own "id" is its idempotency key
TIMESTAMP=$(date +%s)                # unix seconds; Trigly refuses more than 5 minutes of skew
KEY_HEX=$(printf '%s' "${WEBHOOK_SECRET#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
SIGNATURE=$(printf '%s' "$MSG_ID.$TIMESTAMP.$BODY" \
  | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64 -w0)

curl -sS -X POST "$API_URL/v1/webhooks/$CONNECTOR_ID" \
  -H "content-type: application/json" \
  -H "webhook-id: $MSG_ID" \
  -H "webhook-timestamp: $TIMESTAMP" \
  -H "webhook-signature: v1,$SIGNATURE" \
  --data-raw "$BODY"
echo
