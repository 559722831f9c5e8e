# SPDX-License-Identifier: Apache-2.0
"""Generator: ISO XSDs → EXI grammar tables (``python -m ccy.v2g.exi.gen [OUTDIR]``).

``xsd`` reads the schemas into a small component model, ``grammar`` derives the EXI 1.0
schema-informed grammars (§8.5.4) from it, ``emit`` writes ``_tables_<ns>.py``.
"""
