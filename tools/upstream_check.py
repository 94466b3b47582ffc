#!/usr/bin/env python3
"""The offline plan checked by the real AWS provider (`make upstream`).

pulumi-aws is a bridge over terraform-provider-aws: the validators and the plan that decide
what AWS is asked to do are the Terraform provider's. This script takes the program's offline
plans (`orders-preview --update`: every input known, as after a deploy), maps each resource to
the Terraform resource pulumi-aws maps it to (engine/upstream/pulumi-aws.json holds what only
pulumi-aws knows; block or attribute, list or single object, comes from the provider's own
schema), and has OpenTofu, a real client of the plugin protocol, ask the provider:

  validate   ValidateResourceConfig for every resource of the plan;
  create     PlanResourceChange from nothing (the first `pulumi up`);
  no change  PlanResourceChange of the same program against what the create planned;
  scenarios  the changes the lifecycle makes (waitSeconds, a renamed stack, a changed zip);
  probes     every property the program sets, changed one at a time on a copy of one resource
             of each type: does the provider update in place or replace? Side by side with the
             stand-in provider's table (engine/src/aws_facts.rs, REPLACED_ON).

No cloud is called: the provider is configured with made-up keys and skips its credential,
region and account checks, and planning with -refresh=false never reads a resource.

Writes target/upstream/report.json; exits 1 when the provider refused any resource of the plan,
a property has no mapping, the no-change plan changes anything, a replace decision differs
from the stand-in's table, or a check could not run.
"""

import argparse
import base64
import copy
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

# Pulumi's wire signatures (sdk/go/common/resource/sig): assets, archives, secrets.
SIG_KEY = "4dabf18193072939515e22adb298388d"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

PROVIDER_SOURCE = "registry.opentofu.org/hashicorp/aws"
PROVIDER_ADDRESS = f'provider["{PROVIDER_SOURCE}"]'


class MappingError(Exception):
    """A Pulumi property with no Terraform counterpart the schema and the overrides agree on."""


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def singulars(name):
    """pulumi-aws names a list attribute or block that is not MaxItemsOne in the plural."""
    if name.endswith("ies"):
        yield name[:-3] + "y"
    if name.endswith("es"):
        yield name[:-2]
    if name.endswith("s"):
        yield name[:-1]


def is_list_type(cty):
    return isinstance(cty, list) and cty[0] in ("list", "set")


class Mapper:
    """Pulumi inputs → Terraform configuration of one resource type, by the provider's schema."""

    def __init__(self, schemas, overrides):
        self.schemas = schemas
        self.overrides = overrides
        self.used_overrides = set()

    def terraform_type(self, token):
        entry = self.overrides["resources"].get(token)
        if entry is None:
            raise MappingError(f"{token}: no Terraform type in engine/upstream/pulumi-aws.json")
        if entry["terraform"] not in self.schemas:
            raise MappingError(f"{token}: the provider has no resource {entry['terraform']}")
        return entry["terraform"]

    def field(self, token, path):
        fields = self.overrides["resources"][token].get("fields", {})
        if path in fields:
            self.used_overrides.add((token, path))
            return fields[path]
        return {}

    def resource(self, token, inputs):
        tf_type = self.terraform_type(token)
        return tf_type, self.block(token, inputs, self.schemas[tf_type]["block"], "")

    def resolve(self, token, block, pname, ppath):
        """The Terraform name of a Pulumi property and whether Pulumi names it in the plural."""
        override = self.field(token, ppath)
        attributes = block.get("attributes", {})
        blocks = block.get("block_types", {})
        if "terraform" in override:
            name = override["terraform"]
            if name not in attributes and name not in blocks:
                raise MappingError(f"{token} {ppath}: override names {name}, which the provider lacks")
            return name
        name = snake(pname)
        if name in attributes or name in blocks:
            return name
        for single in singulars(name):
            if single in blocks and blocks[single]["nesting_mode"] in ("list", "set"):
                return single
            if single in attributes and is_list_type(attributes[single].get("type")):
                return single
            nested = attributes.get(single, {}).get("nested_type")
            if nested and nested["nesting_mode"] in ("list", "set"):
                return single
        raise MappingError(f"{token} {ppath}: the provider's schema has no {name} here")

    def block(self, token, values, block, prefix):
        if not isinstance(values, dict):
            raise MappingError(f"{token} {prefix}: expected an object, got {values!r}")
        out = {}
        for pname, pvalue in values.items():
            ppath = f"{prefix}.{pname}" if prefix else pname
            pvalue = unwrap(pvalue)
            if pvalue is None:
                continue
            name = self.resolve(token, block, pname, ppath)
            override = self.field(token, ppath)
            if override.get("as") in ("archive", "asset"):
                out[name] = asset_path(token, ppath, pvalue)
                if "hash_field" in override:
                    # As Terraform's filebase64sha256(): the bridge fills it from the content.
                    digest = hashlib.sha256(Path(out[name]).read_bytes()).digest()
                    out[override["hash_field"]] = base64.b64encode(digest).decode()
                continue
            attribute = block.get("attributes", {}).get(name)
            if attribute is not None:
                if "nested_type" in attribute:
                    out[name] = self.nested(token, pvalue, attribute["nested_type"], ppath)
                else:
                    out[name] = self.value(token, pvalue, attribute["type"], ppath)
            else:
                out[name] = self.nested_block(token, pvalue, block["block_types"][name], ppath)
        return out

    def flatten_allowed(self, token, ppath):
        return self.field(token, ppath).get("max_items_one", False)

    def nested_block(self, token, pvalue, block_type, ppath):
        mode = block_type["nesting_mode"]
        inner = block_type["block"]
        if mode in ("single", "group"):
            return self.block(token, pvalue, inner, ppath)
        if mode == "map":
            return {k: self.block(token, v, inner, ppath) for k, v in pvalue.items()}
        if isinstance(pvalue, list):
            return [self.block(token, unwrap(v), inner, ppath) for v in pvalue]
        # pulumi-aws gives a block of at most one item as a single object (MaxItemsOne).
        if block_type.get("max_items") == 1 or self.flatten_allowed(token, ppath):
            return [self.block(token, pvalue, inner, ppath)]
        raise MappingError(f"{token} {ppath}: one object for a block of many ({mode})")

    def nested(self, token, pvalue, nested_type, ppath):
        mode = nested_type["nesting_mode"]
        inner = {"attributes": nested_type["attributes"]}
        if mode == "single":
            return self.block(token, pvalue, inner, ppath)
        if mode == "map":
            return {k: self.block(token, v, inner, ppath) for k, v in pvalue.items()}
        if isinstance(pvalue, list):
            return [self.block(token, unwrap(v), inner, ppath) for v in pvalue]
        if self.flatten_allowed(token, ppath):
            return [self.block(token, pvalue, inner, ppath)]
        raise MappingError(f"{token} {ppath}: one object for a nested list ({mode})")

    def value(self, token, pvalue, cty, ppath):
        pvalue = unwrap(pvalue)
        if isinstance(cty, str):
            if isinstance(pvalue, (dict, list)):
                raise MappingError(f"{token} {ppath}: a {cty} in Terraform, {type(pvalue).__name__} here")
            return pvalue
        kind, inner = cty[0], cty[1]
        if kind in ("list", "set"):
            if isinstance(pvalue, list):
                return [self.value(token, v, inner, ppath) for v in pvalue]
            if self.flatten_allowed(token, ppath):
                return [self.value(token, pvalue, inner, ppath)]
            raise MappingError(f"{token} {ppath}: a {kind} in Terraform, one value here")
        if kind == "map":
            # Map keys are data (variables, headers, dimensions): never renamed.
            return {k: self.value(token, v, inner, ppath) for k, v in pvalue.items()}
        if kind == "object":
            out = {}
            for pname, v in pvalue.items():
                if unwrap(v) is None:
                    continue
                name = snake(pname)
                if name not in inner:
                    raise MappingError(f"{token} {ppath}.{pname}: the object type has no {name}")
                out[name] = self.value(token, v, inner[name], f"{ppath}.{pname}")
            return out
        raise MappingError(f"{token} {ppath}: Terraform type {cty} is not handled")


def unwrap(value):
    if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
        return value["value"]
    if value == UNKNOWN:
        raise MappingError("an unknown value in an --update plan")
    return value


def asset_path(token, ppath, value):
    if not (isinstance(value, dict) and value.get(SIG_KEY) in (ARCHIVE_SIG, ASSET_SIG) and "path" in value):
        raise MappingError(f"{token} {ppath}: expected a file asset or archive, got {value!r}")
    return value["path"]


# ---------------------------------------------------------------------------------------------
# OpenTofu


class Tofu:
    def __init__(self, binary, workdir, cli_config):
        self.binary = binary
        self.workdir = workdir
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(workdir),
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            # The provider must not find credentials or a profile of the machine's.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            # Nor reach AWS: any call but the two answered locally (loopback is never
            # proxied) goes to a closed port and fails, and shows as an error.
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
        }

    def run(self, *args, check=True):
        started = time.monotonic()
        done = subprocess.run(
            [str(self.binary), *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"tofu {' '.join(args)} failed ({done.returncode})")
        return done, time.monotonic() - started


def provider_block(region, endpoint):
    return {
        # The calls the provider makes to AWS while planning, answered by tools/upstream_aws.py.
        "endpoints": [{"sfn": endpoint, "dynamodb": endpoint}],
        "region": region,
        "access_key": "upstream-check",
        "secret_key": "upstream-check",
        "skip_credentials_validation": True,
        "skip_region_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "max_retries": 1,
    }


def escape_templates(value):
    """Terraform's JSON syntax reads every string as a template: `${` and `%{` are written
    doubled to stay literal (the app's JavaScript and the API's templates hold both)."""
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return [escape_templates(v) for v in value]
    if isinstance(value, dict):
        return {escape_templates(k): escape_templates(v) for k, v in value.items()}
    return value


def config_head(provider_version, region, endpoint):
    return {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": provider_version}}},
        "provider": {"aws": provider_block(region, endpoint)},
    }


def write_config(path, head, resources):
    """main.tf.json with one resource per line, so a diagnostic's line names its resource."""
    if not resources:
        path.write_text(json.dumps(head) + "\n")
        return {}
    lines = ["{", f'"terraform": {json.dumps(head["terraform"])},', f'"provider": {json.dumps(head["provider"])},', '"resource": [']
    line_of = {}
    for i, (tf_type, name, body) in enumerate(resources):
        comma = "," if i + 1 < len(resources) else ""
        text = json.dumps({tf_type: {name: escape_templates(body)}}) + comma
        line_of[len(lines) + 1] = (f"{tf_type}.{name}", text)
        lines.append(text)
    lines += ["]", "}"]
    path.write_text("\n".join(lines) + "\n")
    return line_of


def write_state(path, entries, schemas):
    resources = []
    for tf_type, name, attributes in entries:
        resources.append(
            {
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider": PROVIDER_ADDRESS,
                "instances": [
                    {
                        "schema_version": schemas[tf_type].get("version", 0),
                        "attributes": attributes,
                        # As apply records them: a value the schema marks sensitive is held
                        # so (a state without the mark plans a sensitivity-only update).
                        "sensitive_attributes": [
                            [{"type": "get_attr", "value": attribute_name}]
                            for attribute_name, attribute in schemas[tf_type]["block"].get("attributes", {}).items()
                            if attribute.get("sensitive") and attributes.get(attribute_name) is not None
                        ],
                    }
                ],
            }
        )
    state = {
        "version": 4,
        "terraform_version": "1.12.6",
        "serial": 1,
        "lineage": str(uuid.uuid4()),
        "outputs": {},
        "resources": resources,
    }
    path.write_text(json.dumps(state, indent=1) + "\n")


def diagnostics_of(stream, line_of, stage):
    """Diagnostics of a `-json` run: the resource from the address, or from the config line."""
    found = []
    for raw in stream.splitlines():
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            continue
        diagnostic = message.get("diagnostic") if message.get("type") == "diagnostic" else None
        if diagnostic is None and "diagnostics" in message:
            for d in message["diagnostics"]:
                found.append(describe(d, line_of, stage))
            continue
        if diagnostic is not None:
            found.append(describe(diagnostic, line_of, stage))
    return found


def describe(diagnostic, line_of, stage):
    """One diagnostic: its resource (the address, or the config line it points at) and the
    attribute (the innermost JSON key before the column it points at, in that line)."""
    address = diagnostic.get("address")
    start = (diagnostic.get("range") or {}).get("start", {})
    attribute = None
    if start.get("line") in line_of:
        line_address, text = line_of[start["line"]]
        address = address or line_address
        keys = re.findall(r'"([A-Za-z0-9_]+)":', text[: max(0, start.get("column", 1) - 1)])
        attribute = keys[-1] if len(keys) > 2 else None
        if attribute is None:
            # A diagnostic pointing at the whole resource: an attribute of it the text names.
            named = [w for w in re.findall(r"[a-z][a-z0-9_]+", diagnostic.get("detail", "") + " "
                                           + diagnostic.get("summary", "")) if f'"{w}":' in text]
            attribute = named[0] if named else None
    return {
        "stage": stage,
        "severity": diagnostic.get("severity"),
        "resource": address,
        "attribute": attribute,
        "summary": diagnostic.get("summary"),
        "detail": diagnostic.get("detail", ""),
    }


def plan(tofu, name, line_of):
    done, seconds = tofu.run("plan", "-refresh=false", "-input=false", "-lock=false", "-json", f"-out={name}.tfplan", check=False)
    diagnostics = diagnostics_of(done.stdout, line_of, name)
    changes = None
    if done.returncode == 0:
        shown, _ = tofu.run("show", "-json", f"{name}.tfplan")
        changes = json.loads(shown.stdout)
    elif not diagnostics:
        diagnostics.append({"stage": name, "severity": "error", "resource": None, "attribute": None,
                            "summary": f"tofu plan exited {done.returncode}", "detail": done.stderr[-2000:]})
    return changes, diagnostics, seconds


# ---------------------------------------------------------------------------------------------
# From a plan to a state: what the provider planned, with each value it leaves to apply (ARNs,
# computed settings, tags_all) given the zero value of its type, and an id.


def zero(attribute):
    nested = attribute.get("nested_type")
    if nested is not None:
        return None if nested["nesting_mode"] == "single" else ({} if nested["nesting_mode"] == "map" else [])
    cty = attribute.get("type")
    if isinstance(cty, list):
        return {"list": [], "set": [], "map": {}}.get(cty[0])
    return {"string": "", "number": 0, "bool": False}.get(cty)


def fill_unknown(value, unknown, block):
    if not isinstance(value, dict) or not isinstance(unknown, dict):
        return value
    out = dict(value)
    attributes = block.get("attributes", {})
    blocks = block.get("block_types", {})
    for name, is_unknown in unknown.items():
        if name in attributes:
            attribute = attributes[name]
            if is_unknown is True:
                out[name] = zero(attribute)
            elif "nested_type" in attribute and is_unknown:
                inner = {"attributes": attribute["nested_type"]["attributes"]}
                out[name] = fill_each(out.get(name), is_unknown, inner)
            else:
                out[name] = clear_unknown(out.get(name), is_unknown)
        elif name in blocks:
            inner = blocks[name]["block"]
            if is_unknown is True:
                out[name] = None if blocks[name]["nesting_mode"] in ("single", "group") else []
            else:
                out[name] = fill_each(out.get(name), is_unknown, inner)
    return out


def fill_each(value, unknown, block):
    if isinstance(value, list) and isinstance(unknown, list):
        return [fill_unknown(v, unknown[i] if i < len(unknown) else {}, block) for i, v in enumerate(value)]
    if isinstance(value, dict) and isinstance(unknown, dict) and isinstance(next(iter(unknown.values()), None), dict):
        # A map of nested objects: each key's value is a nested object.
        return {k: fill_unknown(v, unknown.get(k, {}), block) for k, v in value.items()}
    return fill_unknown(value, unknown, block)


def settled(change, schema):
    after = fill_unknown(change["change"]["after"], change["change"].get("after_unknown") or {}, schema["block"])
    if not after.get("id"):
        after["id"] = f"{change['name']}-id"
    return after


def clear_unknown(value, unknown):
    if unknown is True:
        return None
    if isinstance(value, dict) and isinstance(unknown, dict):
        return {k: clear_unknown(v, unknown.get(k, False)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(unknown, list):
        return [clear_unknown(v, unknown[i] if i < len(unknown) else False) for i, v in enumerate(value)]
    return value


# ---------------------------------------------------------------------------------------------
# Probes: one property changed on a copy of one resource per type.

# Changed values the provider's validators may accept, for members of an enum, tried in turn.
ALTERNATES = {
    "POST": ["PUT"], "GET": ["PUT"], "OPTIONS": ["PATCH"], "ANY": ["DELETE"],
    "AWS_PROXY": ["AWS"], "AWS": ["AWS_PROXY"], "MOCK": ["HTTP"],
    "REGIONAL": ["EDGE"], "WEBSOCKET": ["HTTP"], "REQUEST": ["TOKEN", "JWT"], "TOKEN": ["REQUEST"],
    "COGNITO_USER_POOLS": ["AWS_IAM", "TOKEN", "REQUEST"], "CUSTOM": ["AWS_IAM"], "NONE": ["AWS_IAM"],
    "PAY_PER_REQUEST": ["PROVISIONED"], "S": ["N"], "HASH": ["RANGE"], "KEYS_ONLY": ["ALL"], "ALL": ["KEYS_ONLY", "ERROR"],
    "NEW_AND_OLD_IMAGES": ["NEW_IMAGE"], "TRIM_HORIZON": ["LATEST"], "LATEST": ["TRIM_HORIZON"],
    "STANDARD": ["EXPRESS"], "JSON": ["Text"], "INFO": ["DEBUG"], "WARN": ["INFO"], "ERROR": ["INFO"],
    "GreaterThanThreshold": ["LessThanThreshold"], "GreaterThanOrEqualToThreshold": ["LessThanThreshold"],
    "Sum": ["Average"], "Maximum": ["Minimum"], "Average": ["Sum"], "notBreaching": ["breaching"],
    "missing": ["breaching"], "x86_64": ["arm64"], "arm64": ["x86_64"], "provided.al2023": ["provided.al2"],
    "email": ["phone_number", "email-json"], "verified_email": ["admin_only"], "OFF": ["OPTIONAL"],
    "INACTIVE": ["ACTIVE"], "ENABLED": ["LEGACY"], "BucketOwnerEnforced": ["BucketOwnerPreferred"],
    "s3": ["mediastore"], "always": ["no-override"], "redirect-to-https": ["https-only"],
    "http2and3": ["http2"], "PriceClass_100": ["PriceClass_200"], "none": ["whitelist"],
    "application/json": ["text/plain"], "Count": ["None"], "Seconds": ["Milliseconds"],
    "Milliseconds": ["Seconds"], "DEFAULT_4XX": ["DEFAULT_5XX"], "BAD_REQUEST_BODY": ["BAD_REQUEST_PARAMETERS"],
    "UNAUTHORIZED": ["ACCESS_DENIED"], "CONVERT_TO_TEXT": ["CONVERT_TO_BINARY"], "WHEN_NO_TEMPLATES": ["NEVER"],
    "WHEN_NO_MATCH": ["NEVER"], "NEVER": ["WHEN_NO_MATCH"], "INTERNET": ["VPC_LINK"], "lambda:InvokeFunction": ["lambda:GetFunction"],
    "RUNNING": ["STOPPED"], "1.0": ["2.0"], "2.0": ["1.0"], "sqs": ["lambda"], "email-json": ["email"],
    "Active": ["PassThrough"], "PassThrough": ["Active"],
    "ALLOW_USER_PASSWORD_AUTH": ["ALLOW_CUSTOM_AUTH"], "ALLOW_USER_SRP_AUTH": ["ALLOW_CUSTOM_AUTH"],
}


def candidates(value, changed_archive):
    """Changed values of a leaf, the likeliest to be accepted first, none equal to it."""
    found = []
    for candidate in raw_candidates(value, changed_archive):
        if candidate != value and candidate not in found:
            found.append(candidate)
    return found


def raw_candidates(value, changed_archive):
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, (int, float)):
        return [value + 1, value * 2, value - value % 60 + 60, value - 1, 60, 30, 7]
    if isinstance(value, list):
        return [[first, *value[1:]] for first in candidates(value[0], changed_archive)] if value else []
    if isinstance(value, dict):
        if value.get(SIG_KEY) in (ARCHIVE_SIG, ASSET_SIG):
            return [{**value, "path": changed_archive(value["path"])}]
        return []
    if not isinstance(value, str):
        return []
    if value in ALTERNATES:
        return list(ALTERNATES[value])
    if value.strip()[:1] in "{[":
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, (dict, list)):
            changed, where = perturb_json(parsed)
            if where is not None:
                return [json.dumps(changed)]
    if value.startswith("'") and value.endswith("'"):
        return [value[:-1] + "-probe'"]
    if re.fullmatch(r"[0-9]+", value):
        return [str(int(value) + 1)]
    if value.endswith("/invocations"):
        return [value[: -len("/invocations")] + "-probe/invocations"]
    if value.startswith("arn:") and value.endswith(":*"):
        return [value[:-2] + "-probe:*"]
    return [value + "-probe"]


def perturb_json(document):
    """Changes the first string leaf of a JSON document (a policy's action, an ASL comment)."""
    if isinstance(document, dict):
        for key, inner in document.items():
            changed, where = perturb_json(inner)
            if where is not None:
                return {**document, key: changed}, where
        return document, None
    if isinstance(document, list):
        for i, inner in enumerate(document):
            changed, where = perturb_json(inner)
            if where is not None:
                return [*document[:i], changed, *document[i + 1 :]], where
        return document, None
    if isinstance(document, str):
        return document + "-probe", "json"
    return document, None


def leaf_paths(value, path=()):
    """Every changeable leaf, as a tuple of keys: each key of objects, the first list item."""
    if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
        value = value["value"]
    if value is None:
        return
    if isinstance(value, dict) and value.get(SIG_KEY) not in (ARCHIVE_SIG, ASSET_SIG):
        for key, inner in value.items():
            yield from leaf_paths(inner, (*path, key))
    elif isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        yield from leaf_paths(value[0], (*path, 0))
    else:
        yield path


def shown(path):
    return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else k) for i, k in enumerate(path))


def probe_inputs(probe, option):
    """The probe's inputs with its leaf changed, or with every equal string changed alike."""
    everywhere, value = option
    if not everywhere:
        inputs = copy.deepcopy(probe["inputs"])
        set_path(inputs, probe["path"], value)
        return inputs
    old = get_path(probe["inputs"], probe["path"])

    def swap(node):
        if node == old:
            return value
        if isinstance(node, list):
            return [swap(v) for v in node]
        if isinstance(node, dict) and SIG_KEY not in node:
            return {k: swap(v) for k, v in node.items()}
        return node

    return swap(probe["inputs"])


def get_path(document, path):
    for key in path:
        document = document[key]
    return document


def set_path(document, path, new):
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = new


# ---------------------------------------------------------------------------------------------


def rebuilt_zip(path, copy_path):
    """A copy of a function's zip with one more file: the same function, rebuilt."""
    shutil.copy(path, copy_path)
    with zipfile.ZipFile(copy_path, "a") as archive:
        archive.writestr("CHANGED", "a rebuilt function\n")
    return str(copy_path.resolve())


def tf_name(pulumi_name):
    name = re.sub(r"[^A-Za-z0-9_-]", "_", pulumi_name)
    return name if re.match(r"[A-Za-z_]", name) else f"r_{name}"


def load_plan(path):
    plan_doc = json.loads(Path(path).read_text())
    if plan_doc.get("mode") != "update":
        raise SystemExit(f"{path}: an --update plan is needed (every input known), not {plan_doc.get('mode')}")
    return plan_doc


def map_plan(mapper, plan_doc, errors, stage):
    mapped = []
    for resource in plan_doc["resources"]:
        try:
            tf_type, body = mapper.resource(resource["type"], resource["inputs"])
        except MappingError as error:
            errors.append({"stage": stage, "severity": "error", "resource": resource["name"],
                           "attribute": None, "summary": "mapping", "detail": str(error)})
            continue
        mapped.append((tf_type, tf_name(resource["name"]), body, resource))
    return mapped


def actions_of(changes):
    out = {}
    for change in (changes or {}).get("resource_changes", []):
        out[change["address"]] = {
            "actions": change["change"]["actions"],
            "replace_paths": change["change"].get("replace_paths", []),
            "action_reason": change.get("action_reason"),
        }
    return out


def action_word(actions):
    if actions == ["no-op"]:
        return "none"
    if actions == ["update"]:
        return "update"
    if set(actions) == {"delete", "create"}:
        return "replace"
    return "+".join(actions)


def lookup(document, dotted):
    for key in dotted.split("."):
        if not isinstance(document, dict):
            return None
        document = unwrap(document.get(key))
    return document


def stand_in_replaces(replaced_on, token, before, after):
    """The stand-in's table entries a change hits: a property, or a nested path in one."""
    return sorted(
        entry for entry in replaced_on.get(token, [])
        if lookup(before, entry) != lookup(after, entry)
    )


def top_level_diff(before, after):
    keys = set(before) | set(after)
    return sorted(k for k in keys if before.get(k) != after.get(k))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tofu", required=True)
    parser.add_argument("--provider", required=True, help="the built terraform-provider-aws binary")
    parser.add_argument("--provider-module", required=True, help="its Go module@version")
    parser.add_argument("--provider-version", required=True, help="the version the mirror gives it")
    parser.add_argument("--overrides", required=True)
    parser.add_argument("--facts", required=True, help="orders-aws-facts output")
    parser.add_argument("--base", required=True, help="the plan as configured (--update)")
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME=PLAN",
                        help="another --update plan of a change the lifecycle makes")
    parser.add_argument("--changed-zip", metavar="RESOURCE", help="also plan a changed archive of this function")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    out_dir = Path(args.out).parent
    work = out_dir / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    started = time.monotonic()

    # The provider, offered to OpenTofu as a local mirror (no registry is reachable), in the
    # directory of the platform OpenTofu runs on.
    mirror_root = (work / "mirror").resolve()
    cli_config = work / "tofu.rc"
    cli_config.write_text(
        'provider_installation {\n'
        f'  filesystem_mirror {{\n    path = "{mirror_root}"\n    include = ["{PROVIDER_SOURCE}"]\n  }}\n'
        '}\n'
    )
    run_dir = work / "run"
    run_dir.mkdir()
    tofu = Tofu(args.tofu, run_dir, cli_config.resolve())
    client = json.loads(tofu.run("version", "-json")[0].stdout)
    mirror = mirror_root / PROVIDER_SOURCE / args.provider_version / client["platform"]
    mirror.mkdir(parents=True)
    (mirror / f"terraform-provider-aws_v{args.provider_version}").symlink_to(Path(args.provider).resolve())

    # The answerer of the provider's plan-time AWS calls (Step Functions' definition check).
    port_file = work / "aws.port"
    aws_log = work / "aws-calls.jsonl"
    aws_log.touch()
    answerer = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("upstream_aws.py")), "--port-file", str(port_file),
         "--log", str(aws_log), "--oracles", str(Path(__file__).with_name("oracles"))]
    )
    try:
        for _ in range(120):
            if port_file.exists() and port_file.read_text():
                break
            if answerer.poll() is not None:
                raise SystemExit("tools/upstream_aws.py stopped before it listened")
            time.sleep(0.25)
        else:
            raise SystemExit("tools/upstream_aws.py did not listen within 30 s")
        head = config_head(args.provider_version, args.region, f"http://127.0.0.1:{port_file.read_text()}")
        return check(args, head, tofu, client, work, aws_log, started)
    finally:
        answerer.terminate()
        answerer.wait()


def check(args, head, tofu, client, work, aws_log, started):
    run_dir = tofu.workdir

    overrides = json.loads(Path(args.overrides).read_text())
    facts = json.loads(Path(args.facts).read_text())
    replaced_on = facts["replaced_on"]
    base_plan = load_plan(args.base)

    write_config(run_dir / "main.tf.json", head, [])
    tofu.run("init", "-input=false", "-backend=false", "-no-color")
    schema_done, _ = tofu.run("providers", "schema", "-json")
    schemas = json.loads(schema_done.stdout)["provider_schemas"][PROVIDER_SOURCE]["resource_schemas"]

    mapper = Mapper(schemas, overrides)
    diagnostics = []
    base = map_plan(mapper, base_plan, diagnostics, "mapping")

    # 1. ValidateResourceConfig of every resource.
    line_of = write_config(run_dir / "main.tf.json", head, [(t, n, b) for t, n, b, _ in base])
    # validate needs an initialised directory; the config changed, the lock file did not.
    done, validate_seconds = tofu.run("validate", "-json", check=False)
    validate = json.loads(done.stdout) if done.stdout.strip() else {}
    diagnostics += [describe(d, line_of, "validate") for d in validate.get("diagnostics", [])]

    # 2. PlanResourceChange from nothing (create).
    create, plan_diagnostics, create_seconds = plan(tofu, "create", line_of)
    diagnostics += plan_diagnostics
    report = {
        "provider": {
            "module": args.provider_module,
            "version": args.provider_version,
            "binary_sha256": hashlib.sha256(Path(args.provider).read_bytes()).hexdigest(),
        },
        "client": {"name": "opentofu", "version": client.get("terraform_version")},
        "plan": {"resources": len(base_plan["resources"]), "mapped": len(base)},
        "validate_seconds": round(validate_seconds, 1),
    }
    scenarios = []
    probes_report = []
    if create is not None:
        creates = actions_of(create)
        report["create"] = {
            "planned": sum(1 for a in creates.values() if a["actions"] == ["create"]),
            "other": {k: v["actions"] for k, v in creates.items() if v["actions"] != ["create"]},
            "seconds": round(create_seconds, 1),
        }
        state_of = {
            change["address"]: settled(change, schemas[change["type"]])
            for change in create["resource_changes"]
        }

        # 3. The same program again, against what the create planned: the provider should plan
        # nothing. A value the provider normalises on its first plan (as apply would store it)
        # is taken into the state and planned again, up to three times; a change that comes
        # back every time is reported.
        for settle_round in range(1, 4):
            state_entries = [(t, n, state_of[f"{t}.{n}"]) for t, n, _, _ in base if f"{t}.{n}" in state_of]
            write_state(run_dir / "terraform.tfstate", state_entries, schemas)
            same, same_diagnostics, same_seconds = plan(tofu, "no-change", line_of)
            if same is None:
                break
            moved = [c for c in same["resource_changes"] if c["change"]["actions"] != ["no-op"]]
            if not moved or settle_round == 3:
                break
            for change in moved:
                state_of[change["address"]] = settled(change, schemas[change["type"]])
        diagnostics += same_diagnostics
        same_actions = actions_of(same)
        changed_attributes = {}
        for change in (same or {}).get("resource_changes", []):
            if change["change"]["actions"] != ["no-op"]:
                before = change["change"]["before"] or {}
                after = change["change"]["after"] or {}
                unknown = change["change"].get("after_unknown") or {}
                changed_attributes[change["address"]] = sorted(
                    k for k in set(before) | set(after) if before.get(k) != after.get(k) or unknown.get(k) is True
                )
        report["no_change"] = {
            "resources": len(same_actions),
            "settling_rounds": settle_round,
            "changes": {k: {**v, "attributes": changed_attributes.get(k, [])}
                        for k, v in same_actions.items() if v["actions"] != ["no-op"]},
            "seconds": round(same_seconds, 1),
        }

        # 4. The lifecycle's changes, each its own plan against that state.
        scenario_plans = []
        for assignment in args.scenario:
            name, path = assignment.split("=", 1)
            scenario_plans.append((name, map_plan(mapper, load_plan(path), diagnostics, name)))
        if args.changed_zip:
            changed = copy.deepcopy(base_plan)
            functions = [r for r in changed["resources"]
                         if r["name"] == args.changed_zip and r["type"] == "aws:lambda/function:Function"]
            if not functions:
                raise SystemExit(f"--changed-zip {args.changed_zip}: no function of that name in the plan")
            code = functions[0]["inputs"]["code"]
            code["path"] = rebuilt_zip(code["path"], work / f"{args.changed_zip}-changed.zip")
            scenario_plans.append(("changed-zip", map_plan(mapper, changed, diagnostics, "changed-zip")))
        before_inputs = {(r["type"], tf_name(r["name"])): r["inputs"] for r in base_plan["resources"]}
        for name, mapped in scenario_plans:
            line_of_s = write_config(run_dir / "main.tf.json", head, [(t, n, b) for t, n, b, _ in mapped])
            changes, scenario_diagnostics, seconds = plan(tofu, name, line_of_s)
            diagnostics += scenario_diagnostics
            decisions = actions_of(changes)
            rows = []
            seen = set()
            # Every resource the provider or the stand-in would change.
            for t, n, _, after in mapped:
                seen.add(f"{t}.{n}")
                before = before_inputs.get((after["type"], n))
                decision = decisions.get(f"{t}.{n}", {"actions": ["no-op"], "replace_paths": []})
                changed_props = top_level_diff(before, after["inputs"]) if before is not None else []
                if decision["actions"] == ["no-op"] and not changed_props:
                    continue
                stand_in = stand_in_replaces(replaced_on, after["type"], before, after["inputs"]) if changed_props else []
                provider = action_word(decision["actions"])
                stand_in_decision = ("replace" if stand_in else "update") if changed_props else "none"
                rows.append({
                    "resource": f"{t}.{n}",
                    "pulumi_type": after["type"],
                    "changed": changed_props,
                    "provider": provider,
                    "provider_replace_paths": decision["replace_paths"],
                    "stand_in": stand_in_decision,
                    "stand_in_replaces_on": stand_in,
                    # Replace or not is what the stand-in's table decides; "update" and "none"
                    # differ where the provider ignores a change (its diff suppression).
                    "agree": (provider == "replace") == (stand_in_decision == "replace"),
                })
            for address, decision in sorted(decisions.items()):
                if address not in seen and decision["actions"] != ["no-op"]:
                    # Not in this plan (a resource it drops): the provider's decision alone.
                    provider = action_word(decision["actions"])
                    rows.append({"resource": address, "pulumi_type": None, "changed": [],
                                 "provider": provider, "provider_replace_paths": decision["replace_paths"],
                                 "stand_in": "none", "stand_in_replaces_on": [], "agree": provider != "replace"})
            scenarios.append({"name": name, "seconds": round(seconds, 1), "changes": rows,
                              "provider_replaces": sum(r["provider"] == "replace" for r in rows),
                              "provider_updates": sum(r["provider"] == "update" for r in rows),
                              "disagreements": sum(not r["agree"] for r in rows)})

        # 5. Probes: one leaf of one resource per type changed, on copies with the same state.
        archives = []

        def changed_archive(path):
            archives.append(path)
            return rebuilt_zip(path, work / f"probe-{len(archives)}.zip")

        # Each leaf the program sets, on the first resource of its type that sets it (a property
        # one resource leaves unset may be set by another).
        probes = {}
        per_property = {}
        for t, n, _, resource in base:
            token = resource["type"]
            for i, path in enumerate(leaf_paths(resource["inputs"])):
                key = (token, shown(path))
                if key in per_property:
                    continue
                value = get_path(resource["inputs"], path)
                options = [(False, v) for v in candidates(value, changed_archive)]
                if isinstance(value, str) and options:
                    # Last: the same value changed everywhere in the resource, for a name other
                    # properties must agree with (a table's hash key and its attribute).
                    options.append((True, options[-1][1]))
                if options:
                    per_property[key] = True
                    probes[f"{t}.{n}__probe{i}"] = {
                        "token": token, "type": t, "name": f"{n}__probe{i}", "of": f"{t}.{n}",
                        "path": path, "inputs": resource["inputs"], "options": options, "tried": [],
                    }

        # A changed value the provider refuses (not a member of its enum, out of its range)
        # stops the plan: that probe tries its next value in the next round.
        planned = {}
        probe_seconds = 0.0
        for probe_round in range(1, 13):
            resources, states = [(t, n, b) for t, n, b, _ in base], list(state_entries)
            for address, probe in probes.items():
                if probe.get("settled") or not probe["options"]:
                    continue
                inputs = probe_inputs(probe, probe["options"][0])
                try:
                    _, body = mapper.resource(probe["token"], inputs)
                except MappingError as error:
                    probe["tried"].append(str(error))
                    probe["options"] = []
                    continue
                resources.append((probe["type"], probe["name"], body))
                states.append((probe["type"], probe["name"], state_of[probe["of"]]))
            line_of_p = write_config(run_dir / "main.tf.json", head, resources)
            write_state(run_dir / "terraform.tfstate", states, schemas)
            changes, probe_diags, seconds = plan(tofu, "probes", line_of_p)
            probe_seconds += seconds
            refused = {}
            for d in probe_diags:
                if d["severity"] != "error":
                    continue  # a warning refuses nothing (the provider plans the value)
                if d["resource"] in probes:
                    refused.setdefault(d["resource"], []).append(f"{d['summary']}: {d['detail']}".strip()[:300])
                else:
                    diagnostics.append(d)
            if changes is not None:
                planned = actions_of(changes)
                break
            if not refused:
                break
            for address, why in refused.items():
                probe = probes[address]
                everywhere, value = probe["options"].pop(0)
                probe["tried"].append({"value": value, "everywhere": everywhere, "refused": why})
        for address, probe in probes.items():
            leaf = shown(probe["path"])
            top = probe["path"][0]
            changed_inputs = probe_inputs(probe, probe["options"][0]) if probe["options"] else probe["inputs"]
            hits = stand_in_replaces(replaced_on, probe["token"], probe["inputs"], changed_inputs)
            stand_in = "replace" if hits else "update"
            row = {"pulumi_type": probe["token"], "property": leaf, "top": top, "stand_in": stand_in,
                   "refused_values": probe["tried"]}
            decision = planned.get(address)
            if decision is None:
                row.update({"provider": "not decided", "why": "no changed value the provider accepts was found"})
            else:
                everywhere, value = probe["options"][0]
                row.update({"provider": action_word(decision["actions"]), "value": value, "everywhere": everywhere,
                            "replace_paths": decision["replace_paths"]})
                row["agree"] = (row["provider"] == "replace") == (stand_in == "replace")
            probes_report.append(row)
        report["probe_rounds"] = probe_round
        if not planned:
            diagnostics.append({"stage": "probes", "severity": "error", "resource": None, "attribute": None,
                                "summary": "the probe plan never finished",
                                "detail": f"{probe_round} rounds, values still refused"})
        report["probes_seconds"] = round(probe_seconds, 1)

    errors = [d for d in diagnostics if d["severity"] == "error"]
    warnings = [d for d in diagnostics if d["severity"] == "warning"]
    report["resources_checked"] = len(base)
    report["errors"] = len(errors)
    report["warnings"] = len(warnings)
    report["diagnostics"] = diagnostics
    report["scenarios"] = scenarios
    report["replacement"] = replacement_table(probes_report, replaced_on)
    report["probes"] = probes_report
    report["overrides_used"] = sorted(f"{t} {p}" for t, p in mapper.used_overrides)
    report["aws_calls"] = [json.loads(line) for line in aws_log.read_text().splitlines()]
    report["seconds"] = round(time.monotonic() - started, 1)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")

    print(f"provider {args.provider_module} ({args.provider_version}), client OpenTofu {report['client']['version']}")
    print(f"resources checked: {report['resources_checked']} of {report['plan']['resources']}; "
          f"errors {report['errors']}, warnings {report['warnings']}")
    for d in errors + warnings:
        where = f"{d['resource']}" + (f" {d['attribute']}" if d["attribute"] else "")
        print(f"  {d['severity']}: [{d['stage']}] {where}: {d['summary']} {d['detail']}".rstrip()[:400])
    if "no_change" in report:
        print(f"no-change plan: {len(report['no_change']['changes'])} of {report['no_change']['resources']} resources would change")
    for scenario in scenarios:
        print(f"scenario {scenario['name']}: {scenario['provider_replaces']} replaced, {scenario['provider_updates']} updated, "
              f"{scenario['disagreements']} differ from the stand-in")
    table = report["replacement"]
    print(f"replacement: {table['agree']} properties agree, {len(table['differ'])} differ, {len(table['unknown'])} not decided")
    for row in table["differ"]:
        leaves = ", ".join(f"{leaf} (provider {row['leaves'][leaf]['provider']}, stand-in {row['leaves'][leaf]['stand_in']})"
                           for leaf in row["disagreeing_leaves"])
        print(f"  {row['pulumi_type']}: {leaves}")
    for row in table["unknown"]:
        print(f"  {row['pulumi_type']} {row['property']}: no changed value the provider accepts was found")
    print(f"report: {args.out}")
    # Besides a refusal: a plan that changes what nothing changed, or a decision the stand-in's
    # table no longer agrees with (the provider changed, or the program set a new property).
    failures = []
    if errors:
        failures.append(f"{len(errors)} errors")
    if "no_change" not in report:
        failures.append("the create plan did not run")
    elif report["no_change"]["changes"]:
        failures.append(f"{len(report['no_change']['changes'])} changes in the no-change plan")
    differing = len(table["differ"]) + sum(s["disagreements"] for s in scenarios)
    if differing:
        failures.append(f"{differing} replace decisions differ from engine/src/aws_facts.rs")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


def replacement_table(probes, replaced_on):
    """Per top-level property: each changed leaf's decision, the provider's and the stand-in's."""
    by_property = {}
    for probe in probes:
        by_property.setdefault((probe["pulumi_type"], probe["top"]), []).append(probe)
    agree, differ, unknown, rows_out = 0, [], [], []
    for (token, prop), rows in sorted(by_property.items()):
        decided = [r for r in rows if r["provider"] in ("replace", "update", "none")]
        if not decided:
            unknown.append({"pulumi_type": token, "property": prop,
                            "stand_in": "replace" if prop in replaced_on.get(token, []) else "update",
                            "refused_values": [r["refused_values"] for r in rows]})
            continue
        row = {"pulumi_type": token, "property": prop,
               "provider": "replace" if any(r["provider"] == "replace" for r in decided) else "update",
               "stand_in": "replace" if any(r["stand_in"] == "replace" for r in decided) else "update",
               "leaves": {r["property"]: {"provider": r["provider"], "stand_in": r["stand_in"]} for r in decided},
               "disagreeing_leaves": [r["property"] for r in decided
                                      if (r["provider"] == "replace") != (r["stand_in"] == "replace")],
               "provider_plans_nothing": [r["property"] for r in decided if r["provider"] == "none"],
               "undecided_leaves": [r["property"] for r in rows if r not in decided]}
        rows_out.append(row)
        if row["disagreeing_leaves"]:
            differ.append(row)
        else:
            agree += 1
    return {"agree": agree, "differ": differ, "unknown": unknown, "properties": rows_out}


if __name__ == "__main__":
    sys.exit(main())
