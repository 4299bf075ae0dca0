#!/usr/bin/python3
"""check-manifest.py MANIFEST ARCHIVE VERSION [TEMPLATE]

Validate a krew Plugin manifest as krew does (internal/index/validation:
apiVersion, kind, name = file name, short description, semver version,
platforms with uri, 64-hex lowercase sha256, bin, files, os/arch selector),
and against the archive: the sha256 matches, the uri names the archive,
spec.version is vVERSION, and the files operations applied to the unpacked
archive leave `bin` as an executable file, beside a LICENSE.  TEMPLATE, the
krew-manifest.yaml in the tree, must agree with MANIFEST but for sha256."""
import glob
import hashlib
import os
import re
import shutil
import sys
import tarfile
import tempfile

import yaml

errors = []
current = ""


def fail(msg):
    errors.append(f"{current}: {msg}")


def check_plugin(path, p, version):
    global current
    current = path
    name = os.path.splitext(os.path.basename(path))[0]
    if p.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        fail(f"apiVersion is {p.get('apiVersion')!r}")
    if p.get("kind") != "Plugin":
        fail(f"kind is {p.get('kind')!r}")
    md = p.get("metadata") or {}
    if not re.fullmatch(r"[\w-]+", str(md.get("name", ""))):
        fail(f"metadata.name {md.get('name')!r} is not a safe plugin name")
    if path.endswith("nublado.yaml") and md.get("name") != name:
        fail(f"metadata.name {md.get('name')!r} is not the file name {name!r}")
    spec = p.get("spec") or {}
    sd = spec.get("shortDescription", "")
    if not sd or "\n" in sd or "\r" in sd:
        fail("shortDescription must be one non-empty line")
    for key in ("homepage", "description", "caveats"):
        if not spec.get(key):
            fail(f"spec.{key} is missing")
    v = str(spec.get("version", ""))
    if not re.fullmatch(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?", v):
        fail(f"spec.version {v!r} is not v + semver")
    if v != "v" + version:
        fail(f"spec.version {v!r} is not v{version} (VERSION)")
    plats = spec.get("platforms") or []
    if not plats:
        fail("no platforms")
    for pl in plats:
        sel = (pl.get("selector") or {}).get("matchLabels") or {}
        if set(sel) - {"os", "arch"} or not sel:
            fail(f"selector.matchLabels {sel!r}: only os and arch, not empty")
        for key in ("uri", "sha256", "bin"):
            if not pl.get(key):
                fail(f"platform {sel}: {key} is missing")
        if not re.fullmatch(r"[a-f0-9]{64}", str(pl.get("sha256", ""))):
            fail(f"sha256 {pl.get('sha256')!r} is not 64 lowercase hex digits")
        if not re.search(r"\.(tar\.gz|zip)$", str(pl.get("uri", ""))):
            fail(f"uri {pl.get('uri')!r} is not a .tar.gz or .zip")
        for op in pl.get("files") or []:
            if not op.get("from") or not op.get("to"):
                fail(f"files entry {op!r} needs from and to")
    return plats


def apply_files(src, dst, ops):
    """What krew does with `files': move each glob match of `from' into `to'."""
    if not ops:
        ops = [{"from": "*", "to": "."}]
    for op in ops:
        target = os.path.join(dst, op["to"])
        os.makedirs(target, exist_ok=True)
        matches = glob.glob(os.path.join(src, op["from"]))
        if not matches:
            fail(f"files: {op['from']!r} matches nothing in the archive")
        for m in matches:
            shutil.move(m, os.path.join(target, os.path.basename(m)))


def main():
    manifest, archive, version = sys.argv[1:4]
    template = sys.argv[4] if len(sys.argv) > 4 else None
    with open(manifest) as f:
        p = yaml.safe_load(f)
    plats = check_plugin(manifest, p, version)
    linux = [pl for pl in plats
             if (pl.get("selector") or {}).get("matchLabels") == {"os": "linux", "arch": "amd64"}]
    if len(linux) != 1:
        fail("want exactly one linux/amd64 platform")
    else:
        pl = linux[0]
        with open(archive, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if pl.get("sha256") != sha:
            fail(f"sha256 {pl.get('sha256')} does not match the archive ({sha})")
        if os.path.basename(str(pl.get("uri"))) != os.path.basename(archive):
            fail(f"uri {pl.get('uri')!r} does not name {os.path.basename(archive)}")
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = os.path.join(tmp, "src"), os.path.join(tmp, "dst")
            os.makedirs(src)
            os.makedirs(dst)
            with tarfile.open(archive) as t:
                names = t.getnames()
                if "LICENSE" not in names:
                    fail("the archive has no LICENSE")
                t.extractall(src, filter="tar") if hasattr(tarfile, "data_filter") else t.extractall(src)
            apply_files(src, dst, pl.get("files"))
            b = os.path.join(dst, pl.get("bin", ""))
            if not (os.path.isfile(b) and os.access(b, os.X_OK)):
                fail(f"bin {pl.get('bin')!r} is not an executable file after the files operations")
            if not os.path.isfile(os.path.join(dst, "LICENSE")):
                fail("no LICENSE is installed")
    if template:
        global current
        current = template
        with open(template) as f:
            t = yaml.safe_load(f)
        check_plugin(template, t, version)
        strip = lambda m: [{k: v for k, v in pl.items() if k != "sha256"}
                           for pl in m["spec"]["platforms"]]
        if strip(t) != strip(p) or {k: v for k, v in t["spec"].items() if k != "platforms"} != \
                {k: v for k, v in p["spec"].items() if k != "platforms"} or t["metadata"] != p["metadata"]:
            fail(f"{template} and {manifest} differ in more than sha256")
    for e in errors:
        print(f"check-manifest: {e}", file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"ok - {manifest}: valid krew manifest, {p['spec']['version']}, sha256 matches {os.path.basename(archive)}")


main()
