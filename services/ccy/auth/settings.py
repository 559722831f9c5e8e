# SPDX-License-Identifier: Apache-2.0
"""ccy-auth's settings: the ``auth`` section of /etc/ccy/config.yaml, typed.

Every key is declared once in config/manifests/auth.yaml; ``Section.bind`` fills this class
(``_ms`` keys are ``_s`` fields in seconds, paths resolved under the root, enums StrEnums,
lists tuples). tests/config/test_config_binding.py checks it against the manifest.
"""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from ccy.auth.contract import SelectionAlgorithm, TokenType
from ccy.runtime.config import Section
from ccy.runtime.paths import Paths


class Provider(StrEnum):
    DUMMY = "dummy"
    V2G = "v2g"
    RFID = "rfid"
    OPERATOR = "operator"


class ValidatorName(StrEnum):
    ACCEPT_ALL = "accept_all"
    LOCAL_LIST = "local_list"
    PNC = "pnc"


class Curve(StrEnum):
    P521 = "p521"
    P256 = "p256"


PROVIDER_OF_TYPE: dict[TokenType, Provider] = {
    TokenType.PNC: Provider.V2G,
    TokenType.AUTOCHARGE: Provider.V2G,
    TokenType.RFID: Provider.OPERATOR,
    TokenType.EIM: Provider.OPERATOR,
    TokenType.OPERATOR: Provider.OPERATOR,
}
"""Which provider a ProvideToken call belongs to, by the token's type."""


@dataclass(frozen=True)
class AuthSettings:
    SECTION: ClassVar[str] = "auth"

    providers: tuple[Provider, ...]
    dummy_token_id: str
    dummy_token_type: TokenType
    dummy_token_delay_s: float
    validators: tuple[ValidatorName, ...]
    accept_all_delay_s: float
    local_list_file: Path | None
    local_list_poll_s: float
    pnc_trust_store: Path
    pnc_curves: tuple[Curve, ...]
    selection_algorithm: SelectionAlgorithm
    connection_timeout_s: int
    master_pass_group_id: str
    connectors: int
    rfid_port: Path
    rfid_baud_Bd: int
    rfid_debounce_s: float

    @classmethod
    def from_section(cls, section: Section, paths: Paths) -> "AuthSettings":
        return section.bind(cls, paths)
