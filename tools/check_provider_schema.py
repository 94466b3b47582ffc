#!/usr/bin/env python3
"""Checks infra/schema/aws.json against the real AWS provider of the same version.

The program's typed resources are generated from that small, hand-kept schema; a property
name the provider does not know would only fail at `pulumi up`. The reference is the
provider's Node.js SDK, @pulumi/aws on npm (the same version as the provider plugin): its
`<module>/<resource>.js` files carry each resource's type token, inputs, outputs and
required inputs, and `types/input.d.ts` the nested types.

Usage: check_provider_schema.py SCHEMA PACKAGE_DIR
"""

import json
import re
import sys
from pathlib import Path


def fail(errors):
    for error in errors:
        print(f"schema: {error}", file=sys.stderr)
    sys.exit(1)


def ts_kinds(ts_type):
    """The schema types a TypeScript property type accepts (a union accepts several)."""
    body = ts_type.replace("pulumi.Input<", "").replace(" | undefined", "").rstrip(">;")
    if "pulumi.asset.Archive" in body:
        return {"archive"}
    if body.endswith("[]"):
        return {"array"}
    if body.startswith("{"):
        return {"object"}
    kinds = set()
    for part in body.split("|"):
        part = part.strip()
        if part.startswith("inputs."):
            kinds.add("ref")
        elif part in ("boolean", "number", "string"):
            kinds.add(part)
    return kinds or {"unknown"}


def schema_kind(prop):
    if "$ref" in prop:
        return "ref"
    kind = prop.get("type")
    if kind == "integer":
        return "number"
    return kind


def interface_fields(text, start):
    """name -> (optional, TypeScript type) of the interface whose `{` is at `start`."""
    fields = {}
    depth = 0
    for line in text[start:].splitlines():
        if depth == 1:
            match = re.match(r"^\s*([A-Za-z0-9_]+)(\??):\s*(.*)$", line)
            if match:
                # A type spanning lines keeps its first line: enough to tell the kind.
                fields[match.group(1)] = (match.group(2) == "?", match.group(3))
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            break
    return fields


def check_kind(where, name, prop, ts_type, errors):
    expected = schema_kind(prop)
    accepted = ts_kinds(ts_type)
    if expected == "object" and accepted == {"archive"}:
        return  # Archives are declared as string maps (gestalt generates no archive type).
    if accepted != {"unknown"} and expected not in accepted:
        errors.append(f"{where}.{name}: schema says {expected}, the provider {accepted} ({ts_type})")


def main():
    schema_path, package = Path(sys.argv[1]), Path(sys.argv[2])
    schema = json.loads(schema_path.read_text())
    version = json.loads((package / "package.json").read_text())["version"]
    errors = []
    if schema["version"] != version:
        errors.append(f"schema version {schema['version']} but @pulumi/aws {version} given")

    for token, resource in schema["resources"].items():
        module, file_name = token.split(":")[1].split("/")
        js = package / module / f"{file_name}.js"
        dts = package / module / f"{file_name}.d.ts"
        if not js.exists():
            errors.append(f"{token}: no {js.relative_to(package)} in @pulumi/aws {version}")
            continue
        source = js.read_text()
        if f"__pulumiType = '{token}'" not in source:
            errors.append(f"{token}: {js.name} declares another type token")
        inputs = set(re.findall(r'resourceInputs\["(\w+)"\] = args\?\.\w+', source))
        state = set(re.findall(r'resourceInputs\["(\w+)"\] = state\?\.\w+', source))
        required = set(re.findall(r"Missing required property '(\w+)'", source))
        for name in resource.get("inputProperties", {}):
            if name not in inputs:
                errors.append(f"{token}: no input named {name}")
        for name in resource.get("properties", {}):
            if name not in state:
                errors.append(f"{token}: no output named {name}")
        for name in required - set(resource.get("inputProperties", {})):
            errors.append(f"{token}: the provider requires {name}, the schema lacks it")
        for name in set(resource.get("requiredInputs", [])) - required:
            errors.append(f"{token}: {name} is required here but optional in the provider")
        class_name = token.split(":")[2]
        text = dts.read_text()
        start = text.find(f"export interface {class_name}Args {{")
        if start < 0:
            errors.append(f"{token}: no {class_name}Args in {dts.name}")
            continue
        fields = interface_fields(text, text.index("{", start))
        for name, prop in resource.get("inputProperties", {}).items():
            if name in fields:
                check_kind(token, name, prop, fields[name][1], errors)

    types_text = (package / "types" / "input.d.ts").read_text()
    for token, object_type in schema.get("types", {}).items():
        module, name = token.split(":")[1].split("/")
        namespace = types_text.find(f"export declare namespace {module} {{")
        if namespace < 0:
            errors.append(f"{token}: no namespace {module} in types/input.d.ts")
            continue
        start = types_text.find(f"interface {name} {{", namespace)
        if start < 0:
            errors.append(f"{token}: no interface {name} in namespace {module}")
            continue
        fields = interface_fields(types_text, types_text.index("{", start))
        for prop_name, prop in object_type.get("properties", {}).items():
            if prop_name not in fields:
                errors.append(f"{token}: no property named {prop_name}")
                continue
            check_kind(token, prop_name, prop, fields[prop_name][1], errors)
        for prop_name in object_type.get("required", []):
            if prop_name in fields and fields[prop_name][0]:
                errors.append(f"{token}: {prop_name} is required here but optional in the provider")

    if errors:
        fail(errors)
    resources = len(schema["resources"])
    types = len(schema.get("types", {}))
    properties = sum(
        len(r.get("inputProperties", {})) + len(r.get("properties", {}))
        for r in schema["resources"].values()
    ) + sum(len(t.get("properties", {})) for t in schema.get("types", {}).values())
    print(f"schema: {resources} resources, {types} types, {properties} properties "
          f"all match @pulumi/aws {version}")


if __name__ == "__main__":
    main()
