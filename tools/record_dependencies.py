"""Writes into a stack's state the dependencies the program cannot send, so that
`pulumi destroy` deletes in an order AWS accepts, in one run.

pulumi-gestalt 0.0.12 registers resources without dependency edges, and the engine orders
deletions by those edges alone (with none, it deletes in any order, even with --parallel 1),
while AWS refuses to delete a role that still has policies, a deployment a stage still uses,
and so on. Every input the program passes that names another resource of the stack got
there by data flow, so the edges can be read back from the state: a resource depends on each
earlier resource whose id or ARN appears among its inputs (also inside JSON documents such as
policies, and as the start of a longer ARN: `table/x/index/*`, `executionArn/*/GET/...`).

Usage (what `make destroy` runs):
    pulumi stack export | python3 tools/record_dependencies.py > state.json
    pulumi stack import --file state.json
    pulumi destroy --yes
"""

import json
import sys

SECRET_OR_ASSET_KEY = "4dabf18193072939515e22adb298388d"


def strings(value):
    """Every string in a value, and in the JSON documents its strings hold."""
    if isinstance(value, str):
        yield value
        if value[:1] in "{[":
            try:
                document = json.loads(value)
            except ValueError:
                return
            yield from strings(document)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        if SECRET_OR_ASSET_KEY in value:
            return  # an archive or a secret: names nothing we can read
        for item in value.values():
            yield from strings(item)


def handles(resource):
    """How other inputs can name a resource: its id and every ARN it reports."""
    found = set()
    if resource.get("id"):
        found.add(resource["id"])
    for key, value in (resource.get("outputs") or {}).items():
        if isinstance(value, str) and value.startswith("arn:"):
            found.add(value)
    return found


def names(text, handle):
    return text == handle or (
        text.startswith(handle) and text[len(handle) : len(handle) + 1] in (":", "/")
    )


def record(deployment):
    """Adds the edges to `deployment` (the `deployment` of `pulumi stack export`); returns
    how many it added."""
    resources = deployment.get("resources") or []
    added = 0
    for position, resource in enumerate(resources):
        if not resource.get("custom") or resource["type"].startswith("pulumi:providers:"):
            continue
        texts = set(strings(resource.get("inputs") or {}))
        dependencies = resource.setdefault("dependencies", [])
        # The engine accepts only dependencies that come earlier in the state.
        for earlier in resources[:position]:
            if not earlier.get("custom") or earlier["type"].startswith("pulumi:providers:"):
                continue
            if earlier["urn"] in dependencies:
                continue
            if any(names(text, handle) for handle in handles(earlier) for text in texts):
                dependencies.append(earlier["urn"])
                added += 1
    return added


def main():
    exported = json.load(sys.stdin)
    added = record(exported["deployment"])
    json.dump(exported, sys.stdout, indent=2)
    sys.stdout.write("\n")
    print(f"recorded {added} dependencies", file=sys.stderr)


if __name__ == "__main__":
    main()
