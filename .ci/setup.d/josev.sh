#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Josev's EVCC/SECC (PyPI `iso15118`, Apache-2.0) as a TEST PEER in its own venv
# (design/v2g.md "Josev as a peer"): tests/v2g/test_josev_evcc.py (Josev's EVCC against
# ccy-v2g) and tests/sim/test_ev_josev_secc.py (our EV simulator against Josev's SECC).
# It pins pydantic 1.x, imports the undeclared aiofile, and its environs 9.5 breaks with
# marshmallow 4 (AttributeError: __version_info__), hence marshmallow<4. Needs Java (its
# bundled EXIficient jar), which the exificient hook's users need too. Never a runtime
# dependency, never committed (.cache/ is git-ignored). Idempotent.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
version=0.26.0
venv=.cache/josev-venv
want="iso15118==$version aiofile marshmallow<4"
stamp=$venv/CCY-PEER-VERSION
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
printf 'setup: Josev (iso15118==%s) test peer venv in %s\n' "$version" "$venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q "iso15118==$version" aiofile "marshmallow<4"
"$venv/bin/python" -c "import iso15118.evcc.main, iso15118.secc.main"
echo "$want" > "$stamp"
