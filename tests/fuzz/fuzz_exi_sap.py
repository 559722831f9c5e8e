# SPDX-License-Identifier: Apache-2.0
"""Fuzz target: the EXI decoder with the SAP grammars (ccy.v2g.exi).

Run: `python tests/fuzz/fuzz_exi_sap.py -atheris_runs=N`. Properties: decoding arbitrary
bytes either succeeds or raises an ExiError subclass with a bit position inside the input, and
whatever decodes re-encodes to a stream that decodes to the same JSON view.
"""

import sys

import atheris

with atheris.instrument_imports():
    from ccy.v2g.exi import ExiError, Namespace, codec, decode, encode

NAMESPACE = Namespace.SAP
codec.grammars(NAMESPACE.name)  # build the tables before fuzzing


def test_one_input(data: bytes) -> None:
    for stream in (data, b"\x80" + data):  # also past the header check
        try:
            view = decode(NAMESPACE, stream)
        except ExiError as exc:
            assert 0 <= exc.bit_position <= 8 * len(stream), exc
            continue
        assert decode(NAMESPACE, encode(NAMESPACE, view)) == view


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
