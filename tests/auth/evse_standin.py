# SPDX-License-Identifier: Apache-2.0
"""A stand-in ccy-evse for ccy-auth's bus tests: a test peer, not a mock of ccy-auth.

It owns org.ccy.Evse and serves the org.ccy.Evse1 members ccy-auth uses, as the committed
contract (dbus/org.ccy.Evse1.xml, names from ccy.evse.contract) describes them: Authorize
(refused unless the session is the present one and the token is redacted), Deauthorize,
StopTransaction, SetReservation; the signals SessionStarted, SessionFinished,
TransactionStarted, TransactionFinished; the properties SessionId, State, TransactionId,
Authorized, ReservationId with PropertiesChanged. A second interface, org.ccy.test.EvseStandIn,
lets the test plug and unplug a vehicle and read the calls it received.

    python tests/auth/evse_standin.py      # on $DBUS_SYSTEM_BUS_ADDRESS until SIGTERM

The bus tests that capture the bus with dbus-monitor use it (their private bus grants
BecomeMonitor); the seed flow also runs against the real ccy-evse (ccy.testing.charger).
"""

import asyncio
import math
import signal
import uuid
from typing import Annotated

from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDouble, DBusSignature, DBusStr
from dbus_fast.constants import PropertyAccess
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_property, method
from dbus_fast.service import signal as dbus_signal

from ccy.evse.contract import BUS_NAME, IFACE, OBJECT_PATH, State, StopRequest
from ccy.runtime.redact import is_redacted

TEST_IFACE = "org.ccy.test.EvseStandIn"
Pair = Annotated[list[str], DBusSignature("ss")]
Triple = Annotated[list[str], DBusSignature("sss")]
Finished = Annotated[list[object], DBusSignature("ssd")]
Calls = Annotated[list[list[str]], DBusSignature("a(ss)")]


class Evse(ServiceInterface):
    def __init__(self) -> None:
        super().__init__(IFACE)
        self.session = ""
        self.state = State.IDLE
        self.transaction = ""
        self.authorized = False
        self.reservation = ""
        self.calls: list[list[str]] = []

    def changed(self) -> None:
        self.emit_properties_changed(
            {
                "SessionId": self.session,
                "State": str(self.state),
                "TransactionId": self.transaction,
                "Authorized": self.authorized,
                "ReservationId": self.reservation,
            }
        )

    @method(name="Authorize")
    def authorize(self, session_id: DBusStr, token: DBusStr, token_type: DBusStr) -> None:
        self.calls.append(["Authorize", f"{session_id} {token_type} {token}"])
        if not is_redacted(token):
            raise DBusError("org.ccy.Error.InvalidArgument", "the token is not redacted")
        if session_id != self.session or not self.session or self.authorized:
            raise DBusError("org.ccy.Error.NotPermitted", f"not the present session ({self.state})")
        self.authorized, self.transaction = True, str(uuid.uuid4())
        self.state = State.PREPARE_CHARGING
        self.transaction_started(self.transaction, self.session, token)
        self.changed()

    @method(name="Deauthorize")
    def deauthorize(self, session_id: DBusStr, reason: DBusStr) -> None:
        self.calls.append(["Deauthorize", f"{session_id} {reason}"])

    @method(name="StopTransaction")
    def stop_transaction(self, reason: DBusStr) -> None:
        self.calls.append(["StopTransaction", reason])
        if reason not in [r.value for r in StopRequest]:
            raise DBusError("org.ccy.Error.InvalidArgument", "unknown reason")
        if not self.transaction:
            raise DBusError("org.ccy.Error.NotPermitted", "no transaction")
        self.transaction_finished(self.transaction, reason, math.nan)
        self.transaction, self.state = "", State.FINISHED
        self.changed()

    @method(name="SetReservation")
    def set_reservation(self, reservation_id: DBusStr, expires_at: DBusDouble) -> None:
        self.calls.append(["SetReservation", f"{reservation_id} {expires_at:.0f}"])
        self.reservation = reservation_id
        if not self.session:
            self.state = State.RESERVED if reservation_id else State.IDLE
        self.changed()

    @dbus_signal(name="SessionStarted")
    def session_started(self, session_id: str) -> DBusStr:
        return session_id

    @dbus_signal(name="SessionFinished")
    def session_finished(self, session_id: str, reason: str) -> Pair:
        return [session_id, reason]

    @dbus_signal(name="TransactionStarted")
    def transaction_started(self, tx: str, session_id: str, token: str) -> Triple:
        return [tx, session_id, token]

    @dbus_signal(name="TransactionFinished")
    def transaction_finished(self, tx: str, reason: str, energy: float) -> Finished:
        return [tx, reason, energy]

    @dbus_property(access=PropertyAccess.READ, name="SessionId")
    def session_id(self) -> DBusStr:
        return self.session

    @dbus_property(access=PropertyAccess.READ, name="State")
    def state_prop(self) -> DBusStr:
        return str(self.state)

    @dbus_property(access=PropertyAccess.READ, name="TransactionId")
    def transaction_id(self) -> DBusStr:
        return self.transaction

    @dbus_property(access=PropertyAccess.READ, name="Authorized")
    def authorized_prop(self) -> Annotated[bool, DBusSignature("b")]:
        return self.authorized

    @dbus_property(access=PropertyAccess.READ, name="ReservationId")
    def reservation_id(self) -> DBusStr:
        return self.reservation


class Control(ServiceInterface):
    def __init__(self, evse: Evse) -> None:
        super().__init__(TEST_IFACE)
        self.evse = evse

    @method(name="Plug")
    def plug(self) -> DBusStr:
        e = self.evse
        e.session, e.authorized = str(uuid.uuid4()), False
        e.state = State.WAITING_FOR_AUTHENTICATION
        e.session_started(e.session)
        e.changed()
        return e.session

    @method(name="Unplug")
    def unplug(self) -> None:
        e = self.evse
        if e.transaction:
            e.transaction_finished(e.transaction, "EVDisconnected", math.nan)
        if e.session:
            e.session_finished(e.session, "EVDisconnected")
        e.session, e.transaction, e.authorized = "", "", False
        e.state = State.RESERVED if e.reservation else State.IDLE
        e.changed()

    @method(name="Calls")
    def calls(self) -> Calls:
        return [list(c) for c in self.evse.calls]

    @method(name="Forget")
    def forget(self) -> None:
        self.evse.calls.clear()


async def serve() -> None:
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    evse = Evse()
    bus.export(OBJECT_PATH, evse)
    bus.export(OBJECT_PATH, Control(evse))
    await bus.request_name(BUS_NAME)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    bus.disconnect()


if __name__ == "__main__":
    asyncio.run(serve())
