#!/usr/bin/env bash
# Prints an ID token for the Serverless Orders API at BASE_URL, to send as
# `Authorization: <token>`:
#
#   tests/token.sh BASE_URL USER
#
# Local mode (`make local`): USER is a demo user, alice or bob. The runner serving BASE_URL
# wrote where its user pool is to ${TMPDIR:-/tmp}/orders-local-PORT.sign-in.json.
#
# A deployed stack: USER is the email of a user made as the README shows (admin-create-user,
# then a permanent password), the password is in ORDERS_PASSWORD, and the app client id is
# in ORDERS_CLIENT_ID (default: `pulumi stack output userPoolClientId`). The region is the
# API's, read from BASE_URL.
#
# Signing in is one unsigned InitiateAuth call (USER_PASSWORD_AUTH), so curl and python3
# are all it needs: no AWS credentials.
set -euo pipefail

base="${1:?usage: tests/token.sh BASE_URL USER}"
user="${2:?usage: tests/token.sh BASE_URL USER}"
base="${base%/}"
fail() { echo "token: $*" >&2; exit 1; }

port=$(printf '%s' "$base" | sed -nE 's#^https?://(127\.0\.0\.1|localhost):([0-9]+).*#\2#p')
local_file="${TMPDIR:-/tmp}/orders-local-${port:-none}.sign-in.json"

if [ -n "$port" ] && [ -f "$local_file" ]; then
  # endpoint, client id, email and password of the demo user, one per line.
  mapfile -t found < <(python3 - "$local_file" "$user" <<'PY'
import json, sys
sign_in = json.load(open(sys.argv[1]))
users = {u["name"]: u for u in sign_in["users"]}
user = users.get(sys.argv[2])
if user is None:
    sys.exit("token: no demo user %r; the demo users are %s" % (sys.argv[2], ", ".join(users)))
print(sign_in["endpoint"]); print(sign_in["client_id"]); print(user["email"]); print(user["password"])
PY
  )
  [ "${#found[@]}" -eq 4 ] || exit 1
  endpoint="${found[0]}"; client_id="${found[1]}"; username="${found[2]}"; password="${found[3]}"
elif [ -n "$port" ]; then
  fail "no orders-local serves $base (no $local_file): start it with make local"
else
  region=$(printf '%s' "$base" | sed -nE 's#^https://[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com.*#\1#p')
  [ -n "$region" ] || fail "cannot read the region from $base (expected https://ID.execute-api.REGION.amazonaws.com/...)"
  endpoint="https://cognito-idp.$region.amazonaws.com"
  client_id="${ORDERS_CLIENT_ID:-$(pulumi stack output userPoolClientId)}"
  username="$user"
  password="${ORDERS_PASSWORD:?set ORDERS_PASSWORD to $user\'s password}"
fi

request=$(python3 -c 'import json, sys; print(json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": sys.argv[1], "AuthParameters": {"USERNAME": sys.argv[2], "PASSWORD": sys.argv[3]}}))' \
  "$client_id" "$username" "$password")
answer=$(curl -sS --max-time 30 -X POST "$endpoint/" \
  -H 'Content-Type: application/x-amz-json-1.1' \
  -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \
  --data-raw "$request") || fail "cannot reach $endpoint"
python3 -c '
import json, sys
answer = json.loads(sys.argv[1])
token = answer.get("AuthenticationResult", {}).get("IdToken")
if not token:
    sys.exit("token: sign-in refused: %s" % answer.get("message", answer))
print(token)' "$answer"
