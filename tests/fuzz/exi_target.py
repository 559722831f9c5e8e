# SPDX-License-Identifier: Apache-2.0
"""The EXI decoder fuzz target shared by fuzz_exi_<ns>.py (one script per grammar set).

Properties: decoding arbitrary bytes either succeeds or raises an ExiError subclass with a bit
position inside the input, and whatever decodes re-encodes to a stream that decodes to the
same JSON view.

Unless a corpus folder is named on the command line, the run uses
``.cache/fuzz/exi_<ns>/``, seeded with the vectors of that namespace (tests/data/vectors,
read through ccy.testing.vectors), so mutations start from real messages and reach the deep
grammar states at once.
"""

import hashlib
import sys
from pathlib import Path

import atheris

from ccy.testing.vectors import all_vectors

TOP = Path(__file__).resolve().parents[2]

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

    argv = sys.argv
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv = [*argv, str(seed_corpus(namespace.name))]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def seed_corpus(key: str) -> Path:
    """The default corpus folder of namespace ``key``, holding at least its vectors."""
    corpus = TOP / ".cache" / "fuzz" / f"exi_{key.lower()}"
    corpus.mkdir(parents=True, exist_ok=True)
    for vector in all_vectors():
        if vector.ns == key:
            (corpus / hashlib.sha1(vector.data).hexdigest()).write_bytes(vector.data)
    return corpus
