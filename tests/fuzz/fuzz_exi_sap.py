# SPDX-License-Identifier: Apache-2.0
"""Fuzz target: the EXI decoder with the SAP grammars (properties: see exi_target.py).

Run: `python tests/fuzz/fuzz_exi_sap.py -atheris_runs=N`.
"""

from exi_target import run

if __name__ == "__main__":
    run("SAP")
