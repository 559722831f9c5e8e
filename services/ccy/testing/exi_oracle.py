# SPDX-License-Identifier: Apache-2.0
"""The EXIficient reference codec as a test oracle (design/v2g.md, "Josev as a peer").

The jar ships inside the ``iso15118`` wheel (PyPI, Apache-2.0); ``.ci/setup.d/exificient.sh``
extracts it into ``.cache/peers/exificient/`` of the repository checkout, where this module
looks for it (an editable install, as for :mod:`ccy.testing.vectors`). It runs in a JVM
driven through py4j (a test dependency), the same path Josev uses, with JSON-view strings in
and out. Test peer only: the v2g tests, ``benchmarks/bench_exi.py``; no product unit imports
it.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The repository checkout: services/ccy/testing/exi_oracle.py → three folders up.
CHECKOUT = Path(__file__).resolve().parents[3]
JAR = CHECKOUT / ".cache" / "peers" / "exificient" / "EXICodec.jar"
VERSION_FILE = JAR.parent / "VERSION"

NAMESPACES: dict[str, str] = {
    "SAP": "urn:iso:15118:2:2010:AppProtocol",
    "CM": "urn:iso:std:iso:15118:-20:CommonMessages",
    "DC": "urn:iso:std:iso:15118:-20:DC",
    "AC": "urn:iso:std:iso:15118:-20:AC",
}


class OracleUnavailable(RuntimeError):
    """The jar or a Java runtime is missing (run .ci/setup.d/exificient.sh as root)."""


class OracleError(RuntimeError):
    """EXIficient refused to encode or decode; the message names the document."""


def missing_condition() -> str | None:
    """Why the oracle cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "no java on PATH (apt-get install default-jre-headless)"
    if not JAR.is_file():
        return f"{JAR} absent (run .ci/setup.d/exificient.sh in the checkout)"
    return None


def root_name(doc: Mapping[str, Any]) -> str:
    """The single root element name of a JSON-view document."""
    keys = list(doc)
    return keys[0] if len(keys) == 1 else f"<{len(keys)} roots: {keys}>"


class Exificient:
    """One JVM running EXIficient's ``EXICodec``; close() shuts it down."""

    def __init__(self) -> None:
        reason = missing_condition()
        if reason is not None:
            raise OracleUnavailable(reason)
        from py4j.java_gateway import JavaGateway

        logging.getLogger("py4j").setLevel(logging.CRITICAL)
        self._gateway = JavaGateway.launch_gateway(
            classpath=str(JAR),
            die_on_exit=True,
            javaopts=["--add-opens", "java.base/java.lang=ALL-UNNAMED"],
        )
        self._codec = self._gateway.jvm.com.siemens.ct.exi.main.cmd.EXICodec()
        self.version = str(self._codec.get_version())

    def close(self) -> None:
        self._gateway.shutdown()

    def __enter__(self) -> Exificient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _uri(ns: str) -> str:
        try:
            return NAMESPACES[ns.upper()]
        except KeyError:
            raise ValueError(f"unknown namespace key {ns!r} (SAP, CM, DC, AC)") from None

    def encode_json(self, ns: str, text: str) -> bytes:
        """JSON text → EXI bytes, exactly the call Josev makes."""
        from py4j.protocol import Py4JError

        try:
            out = self._codec.encode(text, self._uri(ns))
        except Py4JError as exc:
            raise OracleError(f"EXIficient encode ({ns}) raised: {exc}") from exc
        if out is None:
            err = self._codec.get_last_encoding_error()
            raise OracleError(f"EXIficient could not encode {text[:120]} ({ns}): {err}")
        return bytes(out)

    def decode_json(self, ns: str, data: bytes) -> str:
        """EXI bytes → JSON text, exactly the call Josev makes."""
        from py4j.protocol import Py4JError

        try:
            out = self._codec.decode(data, self._uri(ns))
        except Py4JError as exc:
            raise OracleError(f"EXIficient decode ({ns}) raised: {exc}") from exc
        if out is None:
            err = self._codec.get_last_decoding_error()
            raise OracleError(f"EXIficient could not decode {data.hex()} ({ns}): {err}")
        return str(out)

    def encode(self, ns: str, doc: Mapping[str, Any]) -> bytes:
        """JSON view → EXI bytes; an OracleError names the root element."""
        try:
            return self.encode_json(ns, json.dumps(doc, separators=(",", ":")))
        except OracleError as exc:
            raise OracleError(f"{root_name(doc)}: {exc}") from exc

    def decode(self, ns: str, data: bytes) -> dict[str, Any]:
        """EXI bytes → JSON view (parsed)."""
        parsed = json.loads(self.decode_json(ns, data))
        if not isinstance(parsed, dict):
            raise OracleError(f"EXIficient decoded {data.hex()} ({ns}) to a non-object")
        return parsed
