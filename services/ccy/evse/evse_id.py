# SPDX-License-Identifier: Apache-2.0
"""The EVSE ID: ISO 15118-2 Annex H / IEC 63119-2 format, checked when the config loads.

    <country 2 letters> [*] <operator ID 3 alphanumerics> [*] <ID type> <outlet ID>

e.g. "DE*ABC*E123456*1". The country code is ISO 3166-1 alpha-2 (two capitals), the
separator "*" may be left out, the outlet part is 1..31 alphanumerics or "*" starting with
an alphanumeric, and the whole ID is at most 37 characters (ISO 15118-2's EVSEID length;
-20 allows 255, so every -2 ID fits). ISO 15118-2 names the ID type "E" for an EVSE; the
seed's charger is configured with "MY*CUS*T654321*1" (type "T"), so another letter is
accepted with a warning rather than refused (``EvseId.standard_type`` is False).
"""

import re
from dataclasses import dataclass

MAX_LENGTH = 37
PATTERN = re.compile(r"([A-Z]{2})\*?([A-Z0-9]{3})\*?([A-Z0-9])([A-Z0-9*]{0,30})")
"""The manifest's ``evse_id.pattern`` is the same expression (config check refuses early)."""


class InvalidEvseId(ValueError):
    """The EVSE ID does not have the ISO 15118 / IEC 63119 format; the text says where."""


@dataclass(frozen=True)
class EvseId:
    text: str
    country: str
    operator: str
    id_type: str
    outlet: str

    @property
    def standard_type(self) -> bool:
        return self.id_type == "E"


def parse_evse_id(text: str) -> EvseId:
    """The parts of ``text``; InvalidEvseId naming what is wrong."""
    if not text:
        raise InvalidEvseId("the EVSE ID is empty")
    if len(text) > MAX_LENGTH:
        raise InvalidEvseId(f"{text!r} is {len(text)} characters, at most {MAX_LENGTH}")
    if text != text.upper():
        raise InvalidEvseId(f"{text!r}: ISO 15118 EVSE IDs are upper case")
    m = PATTERN.fullmatch(text)
    if m is None:
        raise InvalidEvseId(
            f"{text!r} is not <country 2 letters>*<operator 3 alphanumerics>*<type><outlet>, "
            "e.g. DE*ABC*E123456*1 (ISO 15118-2 Annex H)"
        )
    country, operator, id_type, outlet = m.groups()
    if not outlet:
        raise InvalidEvseId(f"{text!r} has no outlet ID after the ID type {id_type!r}")
    return EvseId(text, country, operator, id_type, outlet)
