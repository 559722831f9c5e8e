# SPDX-License-Identifier: Apache-2.0
"""What keeps each unit's memory down (issue 15, "Performance table": the five units' PSS).

The units do not import what they do not use: ``cryptography`` (only ccy-v2g's certificate
store and ccy-auth's pnc validator need it), importlib.metadata (the version line reads the
metadata file itself), tempfile, difflib and pkgutil (tools and error paths import them). The
replacements behave as the modules they replace.
"""

import base64
import importlib.metadata
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ccy.pki.x509 import CertSpec, cert_pem, issue
from ccy.profinet import diagnosis
from ccy.runtime import version
from ccy.runtime.heap import release_free_heap
from ccy.runtime.ids import uuid4_text
from ccy.runtime.redact.redactor import certificate_der

NOT_AT_START = ("cryptography", "importlib.metadata", "tempfile", "difflib", "pkgutil", "uuid")


def _modules_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("unit", ["bsp", "profinet", "auth"])
def test_a_unit_without_certificates_imports_none_of_the_heavy_modules(unit: str) -> None:
    loaded = _modules_after_import(f"ccy.{unit}.main")
    heavy = {m for m in loaded for top in NOT_AT_START if m == top or m.startswith(top + ".")}
    assert heavy == set(), f"ccy-{unit} imports {sorted(heavy)}"


def test_ccy_v2g_still_has_its_certificate_library() -> None:
    assert "cryptography.x509" in _modules_after_import("ccy.v2g.main")


def test_pem_certificates_give_the_der_cryptography_gives() -> None:
    certs = [issue(CertSpec(f"CCY{i}", is_ca=i > 0)).cert for i in range(3)]
    ders = [c.public_bytes(serialization.Encoding.DER) for c in certs]
    chain = b"".join(cert_pem(c) for c in certs)
    assert certificate_der(chain) == ders[0]  # the leaf, first
    assert certificate_der(chain.decode()) == ders[0]
    assert certificate_der(cert_pem(certs[2])) == ders[2]
    assert certificate_der(base64.b64encode(ders[1]).decode()) == ders[1]


@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",  # not a Certificate
        "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",  # not base64
        "-----BEGIN CERTIFICATE-----\nMAA=\n",  # no END line
        "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",  # SEQ{INTEGER}
    ],
)
def test_a_pem_block_that_is_no_certificate_gives_none(text: str) -> None:
    assert certificate_der(text) is None


def test_a_truncated_certificate_gives_none() -> None:
    der = issue(CertSpec("CCY", is_ca=False)).cert.public_bytes(serialization.Encoding.DER)
    pem = f"-----BEGIN CERTIFICATE-----\n{base64.encodebytes(der[:-1]).decode()}"
    assert certificate_der(pem + "-----END CERTIFICATE-----\n") is None


def test_the_version_is_the_one_importlib_metadata_reads() -> None:
    assert version.package_version() == importlib.metadata.version("ccy")


def test_the_version_comes_from_the_first_metadata_folder_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "CCY-9.8.7.dist-info").mkdir(parents=True)
    (first / "CCY-9.8.7.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ccy\nVersion: 9.8.7\n\nVersion: 0.0.0 (body, not a header)\n"
    )
    (second / "ccy.egg-info").mkdir(parents=True)
    (second / "ccy.egg-info" / "PKG-INFO").write_text("Name: ccy\nVersion: 1.2.3\n")
    (tmp_path / "c" / "ccyx-5.dist-info").mkdir(parents=True)  # another project
    monkeypatch.setattr(sys, "path", [str(tmp_path / "c"), str(first), str(second)])
    assert version.package_version() == "9.8.7"
    monkeypatch.setattr(sys, "path", [str(tmp_path / "c"), str(second)])
    assert version.package_version() == "1.2.3"


def test_uuid4_text_is_a_random_version_4_uuid() -> None:
    values = {uuid4_text() for _ in range(200)}
    assert len(values) == 200
    for text in values:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_free_heap_pages_go_back_to_the_kernel() -> None:
    blocks = [bytearray(4096) for _ in range(20000)]  # 80 MB of malloc'd (not mmap'd) blocks
    del blocks[::2]
    assert release_free_heap() is True  # glibc: malloc_trim released pages
    del blocks


def test_profinet_holds_the_catalogues_of_the_units_it_watches() -> None:
    assert set(diagnosis.CONTRACTS) == set(diagnosis.SOURCES)
    assert diagnosis.catalogue("ccy-evse")
    assert diagnosis.catalogue("ccy-bsp")
