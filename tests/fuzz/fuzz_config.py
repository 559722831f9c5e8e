# SPDX-License-Identifier: Apache-2.0
"""Fuzz the config loader: any bytes as a config file yield problems, never another exception.

When the first byte is even the rest is the file as is (syntax, encoding, structure). When it
is odd the rest builds a ``bsp:`` section from the shipped manifest's key names (some with
typos) and fuzzed one-line values, so the type, bound and rule checks are reached. Every input
must give either problems or a Config whose sections hold every declared key and bind to
every unit's settings class (Section.bind) without an error.

    python tests/fuzz/fuzz_config.py -atheris_runs=100000
"""

import sys

import atheris

with atheris.instrument_imports():
    from ccy.runtime.config import ConfigProblem, load_manifests, settings_classes
    from ccy.runtime.config.loader import check_document
    from ccy.runtime.config.source import parse_bytes
    from ccy.runtime.paths import Paths

MANIFESTS = load_manifests()
SETTINGS = settings_classes()
ROOT = Paths.from_root("/fuzz-root")
NAMES = [*MANIFESTS["bsp"].keys, "serial_baud", "led_status", "Serial_Port"]


def structured(data: bytes) -> bytes:
    fdp = atheris.FuzzedDataProvider(data)
    lines = ["bsp:"]
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        name = NAMES[fdp.ConsumeIntInRange(0, len(NAMES) - 1)]
        value = fdp.ConsumeUnicodeNoSurrogates(24).replace("\n", " ").replace("\r", " ")
        lines.append(f"  {name}: {value}")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def test_one_input(data: bytes) -> None:
    content = structured(data[1:]) if data[:1] and data[0] & 1 else data[1:]
    doc = parse_bytes(content, "fuzz.yaml")
    config = check_document(doc, MANIFESTS)
    for problem in doc.problems:
        if not isinstance(problem, ConfigProblem) or problem.line < 0 or not problem.message:
            raise AssertionError(f"malformed problem {problem!r}")
        if not str(problem).startswith("fuzz.yaml"):
            raise AssertionError(f"problem names another file: {problem}")
    if (config is None) != bool(doc.problems):
        raise AssertionError(f"config {config!r} with problems {doc.problems!r}")
    if config is not None:
        for name, manifest in MANIFESTS.items():
            if set(config.section(name)) != set(manifest.keys):
                raise AssertionError(f"section {name} lacks keys")
        for cls in SETTINGS:
            config.section(cls.SECTION).bind(cls, ROOT)  # a valid config always binds


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
