# SPDX-License-Identifier: Apache-2.0
"""What the ccy-evse core asks the glue to do, and how it refuses a call.

The core does no I/O: every input returns a list of effects, which the glue carries out in
order (calls to ccy-bsp and the power stage, signals, records, session-log lines). Safety
effects come first in every list: power is withdrawn before anyone is told.
"""

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from ccy.runtime.refusal import Refusal

RefusalKind: TypeAlias = Literal["NotReady", "NotPermitted", "InvalidArgument", "Failed"]


class Refused(Refusal):
    """A call does not fit now; ``kind`` is the suffix of org.ccy.Error.<kind>. Nothing
    changed. The message names the state (NotPermitted) or the limit (InvalidArgument)."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(kind, message)


# ---------------------------------------------------------------- peers
@dataclass(frozen=True)
class BspCall:
    """Call org.ccy.Bsp1.<method>(arg) (Enable b, SetCcsReady s, AllowPowerOn b)."""

    method: Literal["Enable", "SetCcsReady", "AllowPowerOn"]
    arg: bool | str


@dataclass(frozen=True)
class StageMode:
    """Call PowerStage1.SetMode(mode) (its reply or refusal comes back as an input)."""

    mode: str


@dataclass(frozen=True)
class StageTarget:
    """PowerStage1.SetTarget(voltage, current) with NO_REPLY_EXPECTED (never awaited)."""

    voltage: float
    current: float


@dataclass(frozen=True)
class StageSelfTest:
    """PowerStage1.StartSelfTest()."""


# ---------------------------------------------------------------- bus signals
@dataclass(frozen=True)
class Emit:
    """Emit the Evse1 signal ``name`` with ``args``."""

    name: str
    args: tuple[object, ...]


# ---------------------------------------------------------------- records
@dataclass(frozen=True)
class RecordSessionStarted:
    session_id: str
    start_us: int


@dataclass(frozen=True)
class RecordSessionFinished:
    session_id: str
    end_us: int
    reason: str


@dataclass(frozen=True)
class RecordTransactionStarted:
    transaction_id: str
    session_id: str
    token: str
    start_us: int
    meter_start_wh: float | None
    clock_synchronized: bool | None = None
    """Whether the system clock was synchronized when the transaction started (None: unknown)."""


@dataclass(frozen=True)
class RecordTransactionStopped:
    transaction_id: str
    stop_us: int
    reason: str
    meter_stop_wh: float | None
    clock_synchronized: bool | None = None
    """Whether the system clock was synchronized when the transaction stopped (None: unknown)."""


@dataclass(frozen=True)
class RecordMeter:
    transaction_id: str
    meter_wh: float
    at_us: int


@dataclass(frozen=True)
class PersistEnabled:
    """Keep Enabled across restarts (the key-value store)."""

    enabled: bool


@dataclass(frozen=True)
class SessionLog:
    """One event line of the present session's log (``kind`` "timing": the block's text)."""

    kind: str
    at_us: int
    fields: dict[str, object] = field(default_factory=dict)


Effect: TypeAlias = (
    BspCall
    | StageMode
    | StageTarget
    | StageSelfTest
    | Emit
    | RecordSessionStarted
    | RecordSessionFinished
    | RecordTransactionStarted
    | RecordTransactionStopped
    | RecordMeter
    | PersistEnabled
    | SessionLog
)
