#!/usr/bin/env python3
"""validate.py SCHEMA [FILE...]: check JSON documents against a JSON Schema.

The keywords tests/schema/*.schema.json use (draft 2020-12): type, const,
enum, required, properties, additionalProperties, items, minimum, oneOf,
anyOf, allOf, if/then/else, $ref to #/$defs/NAME.  Stdlib only: the test
machines cannot reach PyPI.  Exit 1 with every violation's path on stderr.
"""
import json
import sys

TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])


def check(schema, v, path, root, errs):
    """Append (path, message) for each way v breaks schema."""
    if schema is True:
        return
    if schema is False:
        errs.append((path, "no value is allowed here"))
        return
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        check(root["$defs"][name], v, path, root, errs)
    if "type" in schema:
        ts = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(is_type(v, t) for t in ts):
            errs.append((path, "is %s, want %s" % (type(v).__name__, "|".join(ts))))
            return
    if "const" in schema and v != schema["const"]:
        errs.append((path, "is %r, want %r" % (v, schema["const"])))
    if "enum" in schema and v not in schema["enum"]:
        errs.append((path, "is %r, want one of %r" % (v, schema["enum"])))
    if "minimum" in schema and is_type(v, "number") and v < schema["minimum"]:
        errs.append((path, "is %r, below %r" % (v, schema["minimum"])))
    if isinstance(v, dict):
        for k in schema.get("required", []):
            if k not in v:
                errs.append((path, "lacks %r" % k))
        props = schema.get("properties", {})
        for k, sub in props.items():
            if k in v:
                check(sub, v[k], path + "." + k, root, errs)
        extra = schema.get("additionalProperties", True)
        for k in v:
            if k not in props:
                if extra is False:
                    errs.append((path, "has unexpected %r" % k))
                elif isinstance(extra, dict):
                    check(extra, v[k], path + "." + k, root, errs)
    if isinstance(v, list) and "items" in schema:
        for i, item in enumerate(v):
            check(schema["items"], item, "%s[%d]" % (path, i), root, errs)
    for sub in schema.get("allOf", []):
        check(sub, v, path, root, errs)
    for key, want in (("oneOf", 1), ("anyOf", None)):
        if key in schema:
            n = sum(1 for sub in schema[key] if not collect(sub, v, path, root))
            if (want is not None and n != want) or (want is None and n == 0):
                errs.append((path, "matches %d of the %s choices" % (n, key)))
    if "if" in schema:
        branch = "then" if not collect(schema["if"], v, path, root) else "else"
        if branch in schema:
            check(schema[branch], v, path, root, errs)


def collect(schema, v, path, root):
    errs = []
    check(schema, v, path, root, errs)
    return errs


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    bad = 0
    for name in sys.argv[2:] or ["-"]:
        text = sys.stdin.read() if name == "-" else open(name).read()
        try:
            doc = json.loads(text)
        except ValueError as e:
            print("%s: not JSON: %s" % (name, e), file=sys.stderr)
            bad += 1
            continue
        for path, msg in collect(schema, doc, "$", schema):
            print("%s: %s %s" % (name, path, msg), file=sys.stderr)
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
