# SPDX-License-Identifier: Apache-2.0
"""The one-step paths for RationalNumber-shaped children (ccy.v2g.exi.pairs) agree with the
element-by-element grammar walk: same JSON view, same bytes, and on broken input the same
error at the same bit, in both directions."""

import copy
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ccy.testing.vectors import all_vectors
from ccy.v2g.exi import ExiError, Namespace, decode, encode, encoder, walk

VECTORS = all_vectors()
Outcome = tuple[str, Any, int]
Runner = Callable[[Callable[[], Any]], Outcome]


def outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return ("ok", call(), 0)
    except ExiError as exc:
        return (type(exc).__name__, exc.message, exc.bit_position)


@pytest.fixture
def without_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Callable[[], Any]], Outcome]]:
    """Runs a call with the one-step paths switched off (and the walked grammars rebuilt)."""

    def run(call: Callable[[], Any]) -> Outcome:
        with monkeypatch.context() as patch:
            patch.setattr(walk, "_prepared", {})
            patch.setattr(walk, "pair_reader", lambda grammar: None)
            patch.setattr(encoder, "pair_of", lambda grammar: None)
            return outcome(call)

    return run


def test_the_pair_paths_are_taken() -> None:
    """RationalNumberType children are recognised (else this file would test nothing)."""
    calls = []
    real = walk.pair_reader

    def counting(grammar: Any) -> Any:
        found = real(grammar)
        calls.append(found is not None)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(walk, "_prepared", {})
        patch.setattr(walk, "pair_reader", counting)
        view = next(v for v in VECTORS if "DC_ChargeLoopReq" in v.view)
        decode(Namespace.DC, view.data)
    assert any(calls)


def mutations(rng: random.Random, data: bytes) -> Iterator[bytes]:
    for _ in range(40):
        out = bytearray(data)
        for _flip in range(rng.randrange(1, 3)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        yield bytes(out)
    for cut in range(len(data)):
        yield data[:cut]


def test_decoding_agrees_with_the_walk(
    without_pairs: Runner,
) -> None:
    rng = random.Random(10)
    compared = 0
    for vector in VECTORS:
        ns = Namespace[vector.ns]
        for data in mutations(rng, vector.data):
            fast = outcome(lambda: decode(ns, data))  # noqa: B023
            assert without_pairs(lambda: decode(ns, data)) == fast, data.hex()  # noqa: B023
            compared += 1
    assert compared > 4000


JUNK: list[Any] = [None, True, 0, -1, 127, 128, -129, 32767, 32768, -32769, 2**40, "1", 1.5, {}]


def rational_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        if set(node) == {"Exponent", "Value"}:
            yield path
        for key, value in node.items():
            yield from rational_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from rational_paths(value, (*path, index))


def test_encoding_agrees_with_the_walk(
    without_pairs: Runner,
) -> None:
    rng = random.Random(20)
    compared = 0
    for vector in VECTORS:
        ns = Namespace[vector.ns]
        paths = list(rational_paths(vector.view))
        docs = [vector.view]
        for _ in range(20 if paths else 0):
            doc = copy.deepcopy(vector.view)
            node = doc
            for step in rng.choice(paths):
                node = node[step]
            choice = rng.random()
            if choice < 0.7:
                node[rng.choice(["Exponent", "Value"])] = rng.choice(JUNK)
            elif choice < 0.85:
                node["Exponent"], node["Value"] = node.pop("Exponent"), node.pop("Value")
                items = list(node.items())
                node.clear()
                node.update(reversed(items))
            else:
                node["Extra"] = 1
            docs.append(doc)
        for doc in docs:
            fast = outcome(lambda: encode(ns, doc))  # noqa: B023
            assert without_pairs(lambda: encode(ns, doc)) == fast, doc  # noqa: B023
            compared += 1
    assert compared > 1000
