# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the v2g tests: one EXIficient JVM for the whole session (ccy.testing.exi_oracle).

The oracle needs a Java runtime and the jar that .ci/setup.d/exificient.sh extracts; when either
is missing, the tests that use it are skipped with that stated reason.
"""

from collections.abc import Iterator

import pytest

from ccy.testing.exi_oracle import Exificient, missing_condition


@pytest.fixture(scope="session")
def exificient() -> Iterator[Exificient]:
    reason = missing_condition()
    if reason is not None:
        pytest.skip(f"EXIficient oracle unavailable: {reason}")
    codec = Exificient()
    try:
        yield codec
    finally:
        codec.close()
