# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.v2g.exi.gen [OUTDIR]``: regenerate the grammar tables (default: in place).

The text is passed through ``ruff format`` (the project's formatter, a test dependency) so
that the checked-in tables pass ``ruff format --check`` unchanged.
"""

import subprocess
import sys
from pathlib import Path

from ccy.v2g.exi.gen.emit import SCHEMAS, render

PACKAGE = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else PACKAGE
    out.mkdir(parents=True, exist_ok=True)
    for key in SCHEMAS:
        name = f"_tables_{key}.py"
        formatted = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(PACKAGE / name), "-"],
            input=render(key, PACKAGE / "schemas"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (out / name).write_text(formatted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
