# SPDX-License-Identifier: Apache-2.0
"""The EXI decoder fuzz target shared by fuzz_exi_<ns>.py (one script per grammar set).

Properties: decoding arbitrary bytes either succeeds or raises an ExiError subclass with a bit
position inside the input, and whatever decodes re-encodes to a stream that decodes to the
same JSON view.
"""

import sys

import atheris

with atheris.instrument_imports():
    from ccy.v2g.exi import ExiError, Namespace, codec, decode, encode


def run(namespace_name: str) -> None:
    namespace = Namespace[namespace_name]
    codec.grammars(namespace.name)  # build the tables before fuzzing

    def test_one_input(data: bytes) -> None:
        for stream in (data, b"\x80" + data):  # also past the header check
            try:
                view = decode(namespace, stream)
            except ExiError as exc:
                assert 0 <= exc.bit_position <= 8 * len(stream), exc
                continue
            assert decode(namespace, encode(namespace, view)) == view

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
