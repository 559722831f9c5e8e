#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The EXIficient reference codec (Apache-2.0) as a TEST PEER for the EXI oracle tests and
# benchmarks/bench_exi.py (design/v2g.md, "Josev as a peer"): the jar shipped
# inside the pinned `iso15118` wheel from PyPI, run with the machine's Java through py4j.
# Never a runtime dependency, never committed (.cache/ is git-ignored).
# The unmodified ISO XSDs from the same wheel go to schemas/ (flat, so the imports resolve):
# tests/v2g/xsd_*.py read them, independently of the codec's own copy.
# Idempotent: does nothing when the pinned version is already extracted.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

version=0.26.0
dest=.cache/peers/exificient
jar=$dest/EXICodec.jar
stamp=$dest/VERSION

want="iso15118==$version jar+schemas"
if [ -f "$jar" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'setup: fetching EXIficient jar from iso15118==%s (PyPI wheel)\n' "$version"
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: \
  "iso15118==$version" -d "$tmp"
wheel=$(ls "$tmp"/iso15118-"$version"-*.whl)
.venv/bin/python - "$wheel" "$dest" <<'PY'
import sys
import zipfile
from pathlib import Path

wheel, dest = sys.argv[1], Path(sys.argv[2])
schemas = dest / "schemas"
schemas.mkdir(exist_ok=True)
xsds = {
    "V2G_CI_AppProtocol.xsd": "iso15118/shared/schemas/V2G_CI_AppProtocol.xsd",
    "xmldsig-core-schema.xsd": "iso15118/shared/schemas/xmldsig-core-schema.xsd",
}
for name in ("CommonTypes", "CommonMessages", "DC", "AC"):
    xsds[f"V2G_CI_{name}.xsd"] = f"iso15118/shared/schemas/iso15118_20/V2G_CI_{name}.xsd"
with zipfile.ZipFile(wheel) as zf:
    data = zf.read("iso15118/shared/EXICodec.jar")
    for flat, member in xsds.items():
        (schemas / flat).write_bytes(zf.read(member))
(dest / "EXICodec.jar.part").write_bytes(data)
(dest / "EXICodec.jar.part").replace(dest / "EXICodec.jar")
PY
echo "$want" > "$stamp"
printf 'setup: EXIficient jar in %s\n' "$jar"
