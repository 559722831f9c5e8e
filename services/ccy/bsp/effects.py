# SPDX-License-Identifier: Apache-2.0
"""What the ccy-bsp core asks the glue to do, and how it refuses a command.

The core does no I/O: its inputs return a list of effects, which the glue carries out in order.
"""

from dataclasses import dataclass
from typing import Literal, TypeAlias

from ccy.bsp.protocol.messages import Message
from ccy.runtime.refusal import Refusal


@dataclass(frozen=True)
class SendMessage:
    """Write ``message`` (an Inquiry) to the UART now."""

    message: Message


@dataclass(frozen=True)
class ResetMcu:
    """Pulse the reset line (reset_pulse_s), wait startup_wait_s, then call the core's
    ``on_reset_done`` — or ``on_reset_failed`` when the line could not be driven."""

    reason: str


Effect: TypeAlias = SendMessage | ResetMcu


RefusalKind: TypeAlias = Literal[
    "NotReady", "NotPermitted", "InvalidArgument", "NotSupported", "Failed"
]


class CommandRefused(Refusal):
    """A command cannot be carried out now. ``kind`` is the D-Bus error suffix
    (org.ccy.Error.<kind>); the message is one line naming cause and fix."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(kind, message)
