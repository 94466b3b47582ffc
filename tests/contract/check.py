#!/usr/bin/env python3
"""Checks a running Serverless Orders API against the table of expected answers.

    python3 tests/contract/check.py BASE_URL [--all] [--token TOKEN] [--origin ORIGIN]

BASE_URL is local mode's (http://127.0.0.1:3000) or a stack's apiUrl. TOKEN (default: the
ORDERS_TOKEN environment variable) is a signed-in user's ID token, which the rows' "{token}"
stands for (tests/token.sh prints one). Without --all only the rows marked "smoke" run: the
ones fit for a deployed stack. Prints a line per row and
`accepted ORDER_ID` for each order the API took; exits 1 if any row does not hold.
ORIGIN (default: ORDERS_APP_ORIGIN) is the app's origin, which the rows' "{origin}" stands
for (local mode's `app_url`, a stack's `appUrl`); without it the CORS rows are skipped and the
summary says how many.
Python's standard library only, so it runs wherever tests/smoke.sh does.
"""

import argparse
import base64
import http.client
import os
import json
import pathlib
import sys
import urllib.parse

TABLE = pathlib.Path(__file__).with_name("answers.json")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_forms(token):
    """What the rows' token placeholders stand for, made from a good ID token."""
    header, claims, signature = token.split(".")
    unsigned_header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    # The same header and claims with a signature of as many bytes, none of them right.
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    forged = b64url(bytes(b ^ 0x5A for b in raw))
    return {
        "{token}": token,
        "{token_alg_none}": f"{unsigned_header}.{claims}.",
        "{token_bad_signature}": f"{header}.{claims}.{forged}",
    }


# An origin no stack admits.
FOREIGN_ORIGIN = "https://not-admitted.example"


def with_tokens(value, forms):
    for placeholder, token in forms.items():
        value = value.replace(placeholder, token)
    return value


def send(base, request, forms):
    """Sends one request exactly as the row gives it: no header is added but Host and
    Content-Length (http.client adds no Content-Type of its own)."""
    url = urllib.parse.urlsplit(base)
    connection_type = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_type(url.netloc, timeout=60)
    body = request["body"]
    repeat = request.get("repeat")
    if repeat:
        body = body.replace("{repeat}", repeat["text"] * repeat["times"])
    data = body.encode("utf-8")
    path = url.path.rstrip("/") + request["path"]
    try:
        connection.putrequest(request["method"], path, skip_accept_encoding=True)
        for name, value in request["headers"].items():
            connection.putheader(name, with_tokens(value, forms))
        if data or request["method"] in ("POST", "PUT"):
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def problems(row, status, headers, body, forms):
    """What does not hold of `row` in this answer; empty if it all holds."""
    expected = row["answer"]
    found = []
    if status != expected["status"]:
        found.append(f"status {status}, expected {expected['status']}")
    for name in expected.get("headers", []):
        if not headers.get(name):
            found.append(f"no {name} header")
    for name, value in expected.get("header_is_not", {}).items():
        if headers.get(name) == value:
            found.append(f"{name} is {value!r}")
    for name, value in expected.get("header_is", {}).items():
        value = with_tokens(value, forms)
        if headers.get(name) != value:
            found.append(f"{name} is {headers.get(name)!r}, expected {value!r}")
    for name, items in expected.get("header_lists", {}).items():
        listed = {item.strip().lower() for item in (headers.get(name) or "").split(",")}
        missing = [item for item in items if item.lower() not in listed]
        if missing:
            found.append(f"{name} ({headers.get(name)!r}) does not list {', '.join(missing)}")
    for name in expected.get("headers_absent", []):
        if headers.get(name) is not None:
            found.append(f"a {name} header ({headers.get(name)!r}) where none was expected")
    if expected.get("body") == "empty":
        if body:
            found.append(f"a body where none was expected: {body[:200]!r}")
        return found
    if expected.get("body") == "json":
        try:
            answer = json.loads(body)
            missing = [key for key in expected["keys"] if key not in answer]
            if missing:
                found.append(f"the body has no {', '.join(missing)}: {body[:200]!r}")
        except (ValueError, TypeError) as error:
            found.append(f"the body is not a JSON object ({error}): {body[:200]!r}")
        return found
    try:
        answer = json.loads(body)
        message = answer["message"]
        if not isinstance(message, str):
            raise TypeError("message is not a string")
    except (ValueError, KeyError, TypeError) as error:
        found.append(f"the body is not JSON with a message ({error}): {body[:200]!r}")
        return found
    if "message" in expected and message != expected["message"]:
        found.append(f"message {message!r}, expected {expected['message']!r}")
    prefix = expected.get("message_starts_with")
    if prefix == "":
        found.append("an empty message_starts_with holds for every message: name the start")
    elif prefix is not None and not message.startswith(prefix):
        found.append(f"message {message!r} does not start with {prefix!r}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--all", action="store_true", help="also the rows not marked smoke")
    parser.add_argument("--token", default=os.environ.get("ORDERS_TOKEN"),
                        help="a signed-in user's ID token (default: $ORDERS_TOKEN)")
    parser.add_argument("--origin", default=os.environ.get("ORDERS_APP_ORIGIN"),
                        help="the app's origin, which the API admits (default: $ORDERS_APP_ORIGIN)")
    args = parser.parse_args()
    if not args.token or args.token.count(".") != 2:
        parser.error("an ID token is needed: --token or ORDERS_TOKEN (tests/token.sh prints one)")
    forms = token_forms(args.token.removeprefix("Bearer "))
    forms["{foreign_origin}"] = FOREIGN_ORIGIN
    if args.origin:
        forms["{origin}"] = args.origin.rstrip("/")
    rows = json.loads(TABLE.read_text(encoding="utf-8"))["rows"]
    failed = 0
    skipped = 0
    for row in rows:
        if not (args.all or row["smoke"]):
            continue
        if "{origin}" not in forms and "{origin}" in json.dumps(row):
            skipped += 1
            continue
        try:
            status, headers, body = send(args.base_url, row["request"], forms)
        except OSError as error:
            print(f"FAIL {row['name']}: cannot reach {args.base_url}: {error}")
            failed += 1
            continue
        found = problems(row, status, headers, body, forms)
        if found:
            failed += 1
            print(f"FAIL {row['name']}: {'; '.join(found)}")
        else:
            print(f"ok   {row['name']} ({status})")
        if status == 204 and headers.get("X-Order-Id"):
            print(f"accepted {headers['X-Order-Id']}")
    print(f"{failed} of the table's rows did not hold" if failed else "every row held")
    if skipped:
        print(f"skipped {skipped} rows about CORS: no --origin (ORDERS_APP_ORIGIN) given")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
