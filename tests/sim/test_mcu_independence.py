# SPDX-License-Identifier: Apache-2.0
"""The MCU simulator shares no code with ccy-bsp (issue 9, "An independent simulator").

Every module under ccy.sim.mcu, and the ccy-sim drive commands, are parsed (not imported) and
searched for an import of ``ccy.bsp`` in any form: ``import``, ``from … import`` (absolute or a
relative import that climbs out of the package) or a module name given to importlib.
"""

import ast
from pathlib import Path

import pytest

import ccy.sim
import ccy.sim.mcu

SIM_DIR = Path(ccy.sim.__file__).parent
FILES = [*sorted(Path(ccy.sim.mcu.__file__).parent.glob("*.py")), SIM_DIR / "cli_mcu.py"]
FORBIDDEN = "ccy.bsp"


def _forbidden(name: str) -> bool:
    return name == FORBIDDEN or name.startswith(FORBIDDEN + ".")


def bsp_imports(source: str) -> list[str]:
    """The ccy.bsp imports in ``source`` (module code of ccy.sim.mcu)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from ccy.sim.mcu, two levels reach ccy
                module = "ccy" if node.level >= 3 else ""
                module = ".".join(p for p in (module, node.module or "") if p)
            else:
                module = node.module or ""
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            found += [n for n in names if _forbidden(n)][:1]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _forbidden(node.value)
        ):
            found.append(node.value)  # e.g. importlib.import_module("ccy.bsp.protocol")
    return found


def test_the_checker_finds_every_form() -> None:
    assert bsp_imports("import ccy.bsp.protocol") == ["ccy.bsp.protocol"]
    assert bsp_imports("from ccy.bsp.protocol.frame import Frame") == ["ccy.bsp.protocol.frame"]
    assert bsp_imports("from ccy import bsp") == ["ccy.bsp"]
    assert bsp_imports("from ...bsp import protocol") == ["ccy.bsp"]
    assert bsp_imports("importlib.import_module('ccy.bsp.protocol')") == ["ccy.bsp.protocol"]
    assert bsp_imports("from ccy.sim.mcu import wire\nimport ccy.bspx") == []


def test_the_files_exist() -> None:
    names = {f.name for f in FILES}
    assert {"wire.py", "messages.py", "model.py", "server.py", "cli_mcu.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_simulator_module_imports_ccy_bsp(path: Path) -> None:
    assert bsp_imports(path.read_text()) == [], f"{path} must not use ccy-bsp's code"
