#!/usr/bin/env bash
# Smoke test of a running Serverless Orders API, local or deployed:
#
#   tests/smoke.sh BASE_URL        e.g. http://127.0.0.1:3000 or "$(pulumi stack output apiUrl)"
#
# Checks that a bad body gets 400 with a message, that a good order gets 204 and an
# X-Order-Id, that GET /orders/{id} follows it to a final status, and that an unknown
# order is 404. Exit code 0 only if all of that holds. A declined payment
# (PAYMENT_FAILED) is a normal outcome; FAILED means the pipeline broke.
# SMOKE_TIMEOUT_SECONDS bounds the wait for the final status (default 120; the
# workflow waits 30 s by default before it decides).
set -euo pipefail

base="${1:?usage: tests/smoke.sh BASE_URL}"
base="${base%/}"
limit="${SMOKE_TIMEOUT_SECONDS:-120}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
say() { echo "smoke: $*"; }

# request METHOD PATH [BODY]: prints the HTTP status; the body goes to $work/body,
# the headers to $work/headers.
request() {
  local args=(-sS -X "$1" -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 30)
  if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data-raw "$3"); fi
  curl "${args[@]}" "$base$2" || fail "cannot reach $base$2"
}

json_field() { # json_field NAME FILE: the first string value of "NAME"
  sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1
}

status=$(request POST /orders '{"user_id":"smoke","restaurant_id":"Restaurant 4","quantity":0}')
[ "$status" = 400 ] || fail "a quantity of 0 should be refused with 400, got $status: $(cat "$work/body")"
grep -q '"message"' "$work/body" || fail "the 400 carries no message: $(cat "$work/body")"
say "bad body refused with 400: $(cat "$work/body")"

started=$(date +%s)
status=$(request POST /orders '{"user_id":"smoke","restaurant_id":"Restaurant 4","quantity":"3"}')
[ "$status" = 204 ] || fail "a good order should get 204, got $status: $(cat "$work/body")"
order_id=$(tr -d '\r' < "$work/headers" | awk -F': *' 'tolower($1) == "x-order-id" { print $2 }')
[ -n "$order_id" ] || fail "the 204 has no X-Order-Id header"
say "order accepted: $order_id"

current="not stored yet"
while :; do
  status=$(request GET "/orders/$order_id")
  case "$status" in
    200) current=$(json_field status "$work/body") ;;
    404) ;;  # the workflow has not saved it yet
    *) fail "GET /orders/$order_id answered $status: $(cat "$work/body")" ;;
  esac
  case "$current" in
    SENT_TO_RESTAURANT|PAYMENT_FAILED) break ;;
    FAILED) fail "order $order_id ended FAILED: $(cat "$work/body")" ;;
  esac
  [ $(( $(date +%s) - started )) -lt "$limit" ] \
    || fail "order $order_id did not reach a final status within ${limit}s (last seen: $current)"
  sleep 1
done
say "order $order_id reached $current after $(( $(date +%s) - started ))s"

status=$(request GET /orders/smoke-no-such-order)
[ "$status" = 404 ] || fail "an unknown order should be 404, got $status"
say "unknown order is 404"
say "PASS"
