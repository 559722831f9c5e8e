# SPDX-License-Identifier: Apache-2.0
"""A refused request, as every unit's core says it: one exception type the bus layer maps.

A core refuses a command that does not fit now (NotPermitted, naming the state), a value out of
range (InvalidArgument, naming the limit), a missing peer (NotReady), … Each unit's own refusal
(``ccy.bsp.effects.CommandRefused``, ``ccy.evse.effects.Refused``, …) subclasses
:class:`Refusal`, and :func:`ccy.runtime.bus.answer` turns any of them into
``org.ccy.Error.<kind>`` with the message, so no interface repeats the mapping.
"""


class Refusal(Exception):
    """Nothing changed; ``kind`` is the suffix of ``org.ccy.Error.<kind>`` and the message one
    line naming the cause (and, where there is one, the fix)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
