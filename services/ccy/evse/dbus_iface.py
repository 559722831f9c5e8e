# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Evse1 on the bus: handlers forward to the unit's glue in a line.

Contract: dbus/org.ccy.Evse1.xml. Properties come from :data:`ccy.evse.properties.EVSE_TABLE`
(PropertiesChanged from the unit's StatePublisher). A refusal is ``org.ccy.Error.<kind>``
(NotPermitted names the state, InvalidArgument the limit); anything unexpected is
``org.ccy.Error.Failed``, logged with its traceback.
"""

import logging
import math
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from dbus_fast import introspection as intr
from dbus_fast.annotations import DBusBool, DBusDouble, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, method, signal

from ccy.evse.contract import CONTRACT, IFACE
from ccy.evse.effects import Refused
from ccy.evse.properties import EVSE_TABLE
from ccy.evse.state import EvseState
from ccy.runtime import bus
from ccy.runtime.contract_xml import add_enum_annotations
from ccy.runtime.state_iface import StateInterface, export_state

T = TypeVar("T")
BindOut = Annotated[list[str], DBusSignature("ss")]
Limits6 = Annotated[list[float], DBusSignature("(dddddd)")]
ScheduleOut = Annotated[list[Any], DBusSignature("sa(dd)")]
CheckOut = Annotated[list[str], DBusSignature("sss")]
PreOut = Annotated[list[Any], DBusSignature("sds")]
LoopOut = Annotated[list[Any], DBusSignature("(ddbbbdddds)")]
Str2 = Annotated[list[str], DBusSignature("ss")]
Str3 = Annotated[list[str], DBusSignature("sss")]
StrD = Annotated[list[Any], DBusSignature("ssd")]
Transactions = Annotated[list[list[Any]], DBusSignature("a(sssddsd)")]
ErrorRows = Annotated[list[list[Any]], DBusSignature("a(sssssdd)")]
LIST_LIMIT_MAX = 10_000
"""Upper bound of ListTransactions/ListErrors' limit (the XML's range)."""
OUT_NAMES: dict[str, tuple[str, ...]] = {
    "BindSession": ("session_id", "evse_id"),
    "AuthorizationStatus": ("status",),
    "ChargeParameters": ("evse_limits",),
    "Schedule": ("processing", "schedule"),
    "CableCheck": ("processing", "isolation", "notification"),
    "PreCharge": ("processing", "present_voltage", "notification"),
    "PowerDelivery": ("notification",),
    "ChargeLoop": ("result",),
    "WeldingDetection": ("processing", "present_voltage", "notification"),
    "ListTransactions": ("transactions",),
    "ListErrors": ("errors",),
}
"""Output argument names as the XML has them (dbus-fast introspects them unnamed)."""


@export_state(EVSE_TABLE)
class EvseInterface(StateInterface[EvseState]):
    def __init__(self, read_state: Callable[[], EvseState], unit: Any, log: logging.Logger) -> None:
        super().__init__(IFACE, read_state, CONTRACT)
        self._unit = unit
        self._log = log

    def introspect(self) -> intr.Interface:
        iface = ServiceInterface.introspect(self)
        for m in iface.methods:
            for arg, name in zip(m.out_args, OUT_NAMES.get(m.name, ()), strict=False):
                arg.name = name
        return add_enum_annotations(iface, CONTRACT)

    def _call(self, name: str, *args: Any) -> Any:
        return bus.answer(lambda: self._unit.call(name, *args), self._log, f"{IFACE}.{name}")

    # ---------------------------------------------------------------- vehicle (ccy-v2g)
    @method(name="BindSession")
    def bind_session(self, v2g_session_id: DBusStr, evccid: DBusStr, protocol: DBusStr) -> BindOut:
        return list(self._call("bind_session", v2g_session_id, evccid, protocol))

    @method(name="AuthorizationStatus")
    def authorization_status(self) -> DBusStr:
        return str(self._call("authorization_status"))

    @method(name="ChargeParameters")
    def charge_parameters(
        self,
        ev_max_voltage: DBusDouble,
        ev_min_voltage: DBusDouble,
        ev_max_current: DBusDouble,
        ev_min_current: DBusDouble,
        ev_max_power: DBusDouble,
        ev_min_power: DBusDouble,
    ) -> Limits6:
        return list(
            self._call(
                "charge_parameters",
                ev_max_voltage,
                ev_min_voltage,
                ev_max_current,
                ev_min_current,
                ev_max_power,
                ev_min_power,
            )
        )

    @method(name="Schedule")
    def schedule(self, control_mode: DBusStr, departure_time_s: DBusDouble) -> ScheduleOut:
        processing, entries = self._call("schedule", control_mode, departure_time_s)
        return [processing, [list(e) for e in entries]]

    @method(name="CableCheck")
    def cable_check(self) -> CheckOut:
        return list(self._call("cable_check"))

    @method(name="PreCharge")
    def pre_charge(self, ev_target_voltage: DBusDouble, ev_target_current: DBusDouble) -> PreOut:
        return list(self._call("pre_charge", ev_target_voltage, ev_target_current))

    @method(name="PowerDelivery")
    def power_delivery(self, charge_progress: DBusStr) -> DBusStr:
        return str(self._call("power_delivery", charge_progress))

    @method(name="ChargeLoop")
    def charge_loop(
        self,
        ev_target_voltage: DBusDouble,
        ev_target_current: DBusDouble,
        ev_max_voltage: DBusDouble,
        ev_max_current: DBusDouble,
        ev_max_power: DBusDouble,
        ev_present_voltage: DBusDouble,
        soc: DBusDouble,
    ) -> LoopOut:
        return list(
            self._call(
                "charge_loop",
                ev_target_voltage,
                ev_target_current,
                ev_max_voltage,
                ev_max_current,
                ev_max_power,
                ev_present_voltage,
                soc,
            )
        )

    @method(name="WeldingDetection")
    def welding_detection(self) -> PreOut:
        return list(self._call("welding_detection"))

    @method(name="SessionStop")
    def session_stop(self, charging_session: DBusStr) -> None:
        self._call("session_stop", charging_session)

    @method(name="EndV2gSession")
    def end_v2g_session(self, reason: DBusStr) -> None:
        self._call("end_v2g_session", reason)

    # ---------------------------------------------------------------- ccy-auth
    @method(name="Authorize")
    def authorize(self, session_id: DBusStr, token: DBusStr, token_type: DBusStr) -> None:
        self._call("authorize", session_id, token, token_type)

    @method(name="Deauthorize")
    def deauthorize(self, session_id: DBusStr, reason: DBusStr) -> None:
        self._call("deauthorize", session_id, reason)

    @method(name="SetReservation")
    def set_reservation(self, reservation_id: DBusStr, expires_at: DBusDouble) -> None:
        self._call("set_reservation", reservation_id, expires_at)

    # ---------------------------------------------------------------- operators
    @method(name="StopTransaction")
    def stop_transaction(self, reason: DBusStr) -> None:
        self._call("stop_transaction", reason)

    @method(name="Enable")
    def enable(self, enabled: DBusBool) -> None:
        self._call("enable", enabled)

    @method(name="Pause")
    def pause(self) -> None:
        self._call("pause")

    @method(name="Resume")
    def resume(self) -> None:
        self._call("resume")

    @method(name="SetExternalLimits")
    def set_external_limits(
        self, max_power: DBusDouble, max_current: DBusDouble, valid_for_s: DBusDouble
    ) -> None:
        self._call("set_external_limits", max_power, max_current, valid_for_s)

    # ---------------------------------------------------------------- records (operators)
    @method(name="ListTransactions")
    def list_transactions(self, limit: DBusUInt32) -> Transactions:
        _check_limit(limit)
        return self._query(lambda: self._unit.list_transactions(limit))

    @method(name="ListErrors")
    def list_errors(self, since: DBusDouble, limit: DBusUInt32) -> ErrorRows:
        _check_limit(limit)
        if not since >= 0 or math.isinf(since):  # NaN fails too
            raise bus.error(bus.INVALID_ARGUMENT, f"since {since} must be 0 or a time >= 0 s")
        return self._query(lambda: self._unit.list_errors(since, limit))

    def _query(self, read: Callable[[], T]) -> T:
        try:
            return read()
        except Refused as exc:  # stopping: the records are closing
            raise bus.error(bus.ERROR_PREFIX + exc.kind, str(exc)) from exc
        except Exception as exc:
            self._log.exception("%s: reading the records failed", IFACE)
            raise bus.error(bus.FAILED, f"the records cannot be read: {exc}") from exc

    # ---------------------------------------------------------------- signals
    @signal(name="SessionStarted")
    def session_started(self, session_id: str) -> DBusStr:
        return session_id

    @signal(name="SessionFinished")
    def session_finished(self, session_id: str, reason: str) -> Str2:
        return [session_id, reason]

    @signal(name="TransactionStarted")
    def transaction_started(self, transaction_id: str, session_id: str, token: str) -> Str3:
        return [transaction_id, session_id, token]

    @signal(name="TransactionFinished")
    def transaction_finished(self, transaction_id: str, reason: str, energy_wh: float) -> StrD:
        return [transaction_id, reason, energy_wh]


SIGNALS: dict[str, Callable[..., Any]] = {
    "SessionStarted": EvseInterface.session_started,
    "SessionFinished": EvseInterface.session_finished,
    "TransactionStarted": EvseInterface.transaction_started,
    "TransactionFinished": EvseInterface.transaction_finished,
}
_ = (DBusBool,)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise bus.error(bus.INVALID_ARGUMENT, f"limit {limit} is outside 1..{LIST_LIMIT_MAX}")
