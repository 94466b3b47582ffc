#!/usr/bin/env bash
# Smoke test of a running Serverless Orders API, local or deployed:
#
#   tests/smoke.sh BASE_URL        e.g. http://127.0.0.1:3000 or "$(pulumi stack output apiUrl)"
#
# It signs in with ORDERS_TOKEN (an ID token) if that is set. Otherwise, against local mode,
# it takes the demo user alice's token from tests/token.sh; against a deployed stack it makes
# a throw-away user in the stack's pool (the aws CLI, with credentials allowed
# cognito-idp:AdminCreateUser, AdminSetUserPassword and AdminDeleteUser; the pool and client
# ids from `pulumi stack output`, or ORDERS_USER_POOL_ID and ORDERS_CLIENT_ID), signs it in,
# and deletes it when done, pass or fail.
#
# Checks the rows of tests/contract/answers.json marked smoke (what the API answers to
# good and bad requests; python3 runs them; the CORS rows with ORDERS_APP_ORIGIN, the app's
# origin: a stack's `appUrl`, local mode's `app_url`), then follows one good order to a final status
# the way a client should: from the 204's Location, waiting as a 404's Retry-After says
# while the workflow has not stored it yet. Exit code 0 only if all of that holds. A
# declined payment (PAYMENT_FAILED) is a normal outcome; FAILED means the pipeline broke.
# SMOKE_TIMEOUT_SECONDS bounds the wait for the final status (default 120; the
# workflow waits 30 s by default before it decides).
# Then, with ORDERS_EVENTS_TAP_URL (a deployed stack: its `eventsTapQueueUrl`; local mode:
# `events_tap_url` of the ready report, with AWS_ENDPOINT_URL at the emulator), it reads the
# order's events from the tap (tests/contract/events.py, boto3): versions 1 to the order's,
# RECEIVED first, one status each.
set -euo pipefail

base="${1:?usage: tests/smoke.sh BASE_URL}"
base="${base%/}"
limit="${SMOKE_TIMEOUT_SECONDS:-120}"
work="$(mktemp -d)"
here="$(dirname "$0")"
throwaway=""
cleanup() {
  if [ -n "$throwaway" ]; then
    aws cognito-idp admin-delete-user --user-pool-id "$ORDERS_USER_POOL_ID" --username "$throwaway" \
      && echo "smoke: deleted the throw-away user $throwaway" \
      || echo "smoke: could not delete the throw-away user $throwaway: delete it by hand" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
say() { echo "smoke: $*"; }

if [ -z "${ORDERS_TOKEN:-}" ]; then
  if printf '%s' "$base" | grep -qE '^https?://(127\.0\.0\.1|localhost):'; then
    ORDERS_TOKEN=$("$here/token.sh" "$base" alice) || fail "cannot sign in to local mode"
  else
    export ORDERS_USER_POOL_ID="${ORDERS_USER_POOL_ID:-$(pulumi stack output userPoolId)}"
    export ORDERS_CLIENT_ID="${ORDERS_CLIENT_ID:-$(pulumi stack output userPoolClientId)}"
    throwaway="smoke-$(date +%s)-$RANDOM@example.com"
    # A password no one keeps: it lives as long as this run.
    ORDERS_PASSWORD="Sm0ke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')!"
    export ORDERS_PASSWORD
    aws cognito-idp admin-create-user --user-pool-id "$ORDERS_USER_POOL_ID" --username "$throwaway" \
      --user-attributes Name=email,Value="$throwaway" Name=email_verified,Value=true \
      --message-action SUPPRESS >/dev/null || fail "cannot create a throw-away user"
    aws cognito-idp admin-set-user-password --user-pool-id "$ORDERS_USER_POOL_ID" --username "$throwaway" \
      --password "$ORDERS_PASSWORD" --permanent || fail "cannot set the throw-away user's password"
    say "signed up the throw-away user $throwaway"
    ORDERS_TOKEN=$("$here/token.sh" "$base" "$throwaway") || fail "cannot sign the throw-away user in"
  fi
fi
export ORDERS_TOKEN

# request METHOD URL [BODY]: prints the HTTP status; the body goes to $work/body,
# the headers to $work/headers.
request() {
  local args=(-sS -X "$1" -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 30
    -H "Authorization: $ORDERS_TOKEN")
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
python3 "$here/contract/check.py" "$base" || fail "the API does not answer as the table says"

started=$(date +%s)
status=$(request POST "$base/orders" '{"restaurant_id":"Restaurant 4","quantity":"3"}')
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

if [ -n "${ORDERS_EVENTS_TAP_URL:-}" ]; then
  version=$(sed -n 's/.*"version":\([0-9][0-9]*\).*/\1/p' "$work/body" | head -n 1)
  [ -n "$version" ] || fail "order $order_id has no version: $(cat "$work/body")"
  python3 "$here/contract/events.py" "$ORDERS_EVENTS_TAP_URL" "$order_id" "$version" \
    || fail "order $order_id's events are not all on the bus"
  say "its events came: versions 1 to $version"
fi

# The signed-in user's list holds it (the index may lag a moment behind the table).
for _ in 1 2 3 4 5 6 7 8 9 10; do
  status=$(request GET "$base/orders?limit=50")
  [ "$status" = 200 ] || fail "GET /orders answered $status: $(cat "$work/body")"
  grep -q "\"$order_id\"" "$work/body" && break
  sleep 1
done
grep -q "\"$order_id\"" "$work/body" || fail "GET /orders does not list order $order_id"
say "GET /orders lists it"
say "PASS"
