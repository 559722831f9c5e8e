# SPDX-License-Identifier: Apache-2.0
"""The EXIficient oracle itself: every shared -20 vector decodes to its JSON view and
re-encodes to its bytes (tests/data/vectors/README.md), and its errors name what failed."""

import pytest

from ccy.testing.exi_oracle import Exificient, OracleError
from ccy.testing.vectors import Vector, all_vectors

VECTORS = all_vectors()


def test_vector_set_is_complete() -> None:
    # 43 libiso15118 vectors plus the 68 messages of the Josev DC session transcript.
    assert len(VECTORS) == 43 + 68
    assert {v.ns for v in VECTORS} == {"SAP", "CM", "DC", "AC"}


@pytest.mark.parametrize("vector", VECTORS, ids=[v.ident for v in VECTORS])
def test_oracle_decodes_and_reencodes_vector(exificient: Exificient, vector: Vector) -> None:
    assert exificient.decode(vector.ns, vector.data) == vector.view
    assert exificient.encode(vector.ns, vector.view) == vector.data


def test_oracle_worked_example(exificient: Exificient) -> None:
    """design/v2g.md: DC_CableCheckReq, SessionID 3D4CBF93374ED89B, TimeStamp 1725456327."""
    doc = {
        "DC_CableCheckReq": {"Header": {"SessionID": "3D4CBF93374ED89B", "TimeStamp": 1725456327}}
    }
    assert exificient.encode("DC", doc).hex() == "802c041ea65fc99ba76c4d8c7bfe1b6062"


def test_oracle_decode_error_names_bytes(exificient: Exificient) -> None:
    with pytest.raises(OracleError, match=r"could not decode 80ff \(DC\)"):
        exificient.decode("DC", b"\x80\xff")


def test_oracle_encode_error_names_message(exificient: Exificient) -> None:
    with pytest.raises(OracleError, match=r"^NoSuchReq: .*could not encode"):
        exificient.encode("DC", {"NoSuchReq": {}})


def test_oracle_rejects_unknown_namespace(exificient: Exificient) -> None:
    with pytest.raises(ValueError, match="unknown namespace key 'WPT'"):
        exificient.encode("WPT", {"DC_CableCheckReq": {}})
