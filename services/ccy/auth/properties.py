# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Auth1's properties as a view of the core's state and the settings, spelled once."""

from dataclasses import dataclass

from ccy.auth.contract import IFACE
from ccy.auth.core import AuthState
from ccy.auth.settings import AuthSettings
from ccy.runtime.state import Prop, PropertyTable


@dataclass(frozen=True)
class View:
    """What the properties read: the core's state and the configuration in force."""

    state: AuthState
    settings: AuthSettings


def _reservations(v: View) -> list[list[object]]:
    return [
        [r.id, r.token_hash, r.parent_hash, r.connector, float(r.expires_at)]
        for r in v.state.reservations
    ]


AUTH_TABLE: PropertyTable[View] = PropertyTable(
    IFACE,
    (
        Prop("Reservations", "a(sssid)", _reservations),
        Prop("Providers", "as", lambda v: [str(p) for p in v.settings.providers]),
        Prop("Validators", "as", lambda v: [str(x) for x in v.settings.validators]),
        Prop("SelectionAlgorithm", "s", lambda v: str(v.settings.selection_algorithm)),
        Prop("ConnectionTimeout", "d", lambda v: float(v.settings.connection_timeout_s)),
        Prop("MasterPassConfigured", "b", lambda v: v.state.master_pass_configured),
        Prop("WaitingFor", "as", lambda v: list(v.state.waiting_for)),
    ),
)
