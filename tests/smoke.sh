#!/usr/bin/env bash
# Smoke test of a running Serverless Orders API, local or deployed:
#
#   tests/smoke.sh BASE_URL        e.g. http://127.0.0.1:3000 or "$(pulumi stack output apiUrl)"
#
# Checks the rows of tests/contract/answers.json marked smoke (what the API answers to
# good and bad requests; python3 runs them), then follows one good order to a final status
# the way a client should: from the 204's Location, waiting as a 404's Retry-After says
# while the workflow has not stored it yet. Exit code 0 only if all of that holds. A
# declined payment (PAYMENT_FAILED) is a normal outcome; FAILED means the pipeline broke.
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

# request METHOD URL [BODY]: prints the HTTP status; the body goes to $work/body,
# the headers to $work/headers.
request() {
  local args=(-sS -X "$1" -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 30)
  if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data-raw "$3"); fi
  curl "${args[@]}" "$2" || fail "cannot reach $2"
}

header() { # header NAME: its value in the last answer (NAME in lower case)
  tr -d '\r' < "$work/headers" | awk -F': *' -v name="$1" 'tolower($1) == name { print $2 }'
}

json_field() { # json_field NAME FILE: the first string value of "NAME"
  sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1
}

request GET "$base/orders/smoke-probe" >/dev/null
python3 "$(dirname "$0")/contract/check.py" "$base" || fail "the API does not answer as the table says"

started=$(date +%s)
status=$(request POST "$base/orders" '{"user_id":"smoke","restaurant_id":"Restaurant 4","quantity":"3"}')
[ "$status" = 204 ] || fail "a good order should get 204, got $status: $(cat "$work/body")"
order_id=$(header x-order-id)
[ -n "$order_id" ] || fail "the 204 has no X-Order-Id header"
location=$(header location)
[ "${location##*/}" = "$order_id" ] || fail "the 204's Location ($location) does not name order $order_id"
# The Location is a path on the API's host.
order_url="$(printf '%s' "$base" | sed -E 's#^(https?://[^/]+).*#\1#')$location"
say "order accepted: $order_id, at $order_url"

current="not stored yet"
while :; do
  status=$(request GET "$order_url")
  pause=1
  case "$status" in
    200) current=$(json_field status "$work/body") ;;
    404) pause=$(header retry-after) ;;  # the workflow has not stored it yet
    *) fail "GET $order_url answered $status: $(cat "$work/body")" ;;
  esac
  case "$current" in
    SENT_TO_RESTAURANT|PAYMENT_FAILED) break ;;
    FAILED) fail "order $order_id ended FAILED: $(cat "$work/body")" ;;
  esac
  [ $(( $(date +%s) - started )) -lt "$limit" ] \
    || fail "order $order_id did not reach a final status within ${limit}s (last seen: $current)"
  sleep "${pause:-1}"
done
say "order $order_id reached $current after $(( $(date +%s) - started ))s"
say "PASS"
