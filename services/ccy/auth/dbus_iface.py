# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Auth1 on the bus: handlers forward to the unit's glue in a line or two.

Contract: dbus/org.ccy.Auth1.xml. Properties are generated from
:data:`ccy.auth.properties.AUTH_TABLE`; PropertiesChanged comes from the unit's StatePublisher.
A refusal is ``org.ccy.Error.<kind>`` (:class:`ccy.auth.core.CommandRefused`); anything
unexpected is ``org.ccy.Error.Failed`` (logged with its traceback).
"""

import logging
from collections.abc import Callable
from typing import Annotated, Protocol, TypeVar

from dbus_fast import introspection as intr
from dbus_fast.annotations import DBusDouble, DBusInt32, DBusSignature, DBusStr
from dbus_fast.service import ServiceInterface, method, signal

from ccy.auth.contract import CONTRACT, IFACE
from ccy.auth.properties import AUTH_TABLE, View
from ccy.runtime import bus
from ccy.runtime.contract_xml import add_enum_annotations
from ccy.runtime.state_iface import StateInterface, export_state

Int32Array = Annotated[list[int], DBusSignature("ai")]
ProvideAnswer = Annotated[list[str], DBusSignature("sss")]
TokenList = Annotated[list[list[object]], DBusSignature("a(sssid)")]
Result = Annotated[list[str], DBusSignature("ssss")]
FinishedArgs = Annotated[list[object], DBusSignature("ssi")]
T = TypeVar("T")
OUT_ARG_NAMES: dict[str, tuple[str, ...]] = {
    "ProvideToken": ("token_hash", "status", "reason"),
    "ListTokens": ("tokens",),
    "Reserve": ("reservation_id",),
}
"""Out-argument names of dbus/org.ccy.Auth1.xml, per method."""


class AuthCommands(Protocol):
    def provide_token(
        self, token: str, token_type: str, parent_id: str, connectors: list[int], chain: str
    ) -> list[str]: ...
    def list_tokens(self) -> list[list[object]]: ...
    def reserve(self, token: str, parent_id: str, connector: int, expires_at: float) -> str: ...
    def cancel_reservation(self, reservation_id: str) -> None: ...


@export_state(AUTH_TABLE)
class AuthInterface(StateInterface[View]):
    def __init__(
        self, read_view: Callable[[], View], commands: AuthCommands, log: logging.Logger
    ) -> None:
        super().__init__(IFACE, read_view, CONTRACT)
        self._commands = commands
        self._log = log

    def introspect(self) -> intr.Interface:
        """The generated introspection with the out-arguments named as the XML names them
        (dbus-fast leaves them unnamed), then the contract's annotations."""
        iface = ServiceInterface.introspect(self)
        for m in iface.methods:
            names = OUT_ARG_NAMES.get(m.name, ())
            for arg, name in zip(m.out_args, names, strict=True):
                arg.name = name
        return add_enum_annotations(iface, CONTRACT)

    @method(name="ProvideToken")
    def provide_token(
        self,
        token: DBusStr,
        token_type: DBusStr,
        parent_id: DBusStr,
        connectors: Int32Array,
        certificate_chain: DBusStr,
    ) -> ProvideAnswer:
        return self._call(
            lambda: self._commands.provide_token(
                token, token_type, parent_id, list(connectors), certificate_chain
            )
        )

    @method(name="ListTokens")
    def list_tokens(self) -> TokenList:
        return self._call(self._commands.list_tokens)

    @method(name="Reserve")
    def reserve(
        self, token: DBusStr, parent_id: DBusStr, connector: DBusInt32, expires_at: DBusDouble
    ) -> DBusStr:
        return self._call(lambda: self._commands.reserve(token, parent_id, connector, expires_at))

    @method(name="CancelReservation")
    def cancel_reservation(self, reservation_id: DBusStr) -> None:
        self._call(lambda: self._commands.cancel_reservation(reservation_id))

    def _call(self, action: Callable[[], T]) -> T:
        return bus.answer(action, self._log, IFACE)

    @signal(name="ValidationResult")
    def validation_result(
        self, token_hash: str, token_type: str, status: str, reason: str
    ) -> Result:
        return [token_hash, token_type, status, reason]

    @signal(name="TokenFinished")
    def token_finished(self, token_hash: str, outcome: str, connector: int) -> FinishedArgs:
        return [token_hash, outcome, connector]
