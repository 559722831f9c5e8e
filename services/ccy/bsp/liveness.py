# SPDX-License-Identifier: Apache-2.0
"""Link liveness and the firmware inquiries, driven by a clock the caller passes in.

safety-link.md, "Link": the host considers the link dead when no frame arrived for
link_timeout (1.5 s). Only ChargeState2 counts (issue 9): it is the one message that says the
MCU's safety state machine is running; a PT1000State or FwVersion stream alone is no proof.

Inquiries: FwVersion, then GitHash, one at a time. The vendor's ra-utils answers an inquiry
within 30 ms (safety-link.md, FwVersion); we wait firmware_inquiry_timeout_s per try and try
firmware_inquiry_retries more times before giving up on that message.
"""

import logging

from ccy.bsp.effects import Effect, SendMessage
from ccy.bsp.protocol.frame import Com
from ccy.bsp.protocol.messages import Inquiry

FIRMWARE_INQUIRIES = (Com.FW_VERSION, Com.GIT_HASH)


class LinkWatch:
    """When the last ChargeState2 arrived (or, before the first one, since when we wait)."""

    def __init__(self, timeout_s: float, now: float) -> None:
        self.timeout_s = timeout_s
        self.last = now
        self.heard = False
        """True once a ChargeState2 arrived since construction."""

    def refresh(self, now: float) -> None:
        self.last = now
        self.heard = True

    def restart(self, now: float) -> None:
        """Wait a full timeout from ``now`` (after a reset: the MCU is starting up)."""
        self.last = now

    def silent_for(self, now: float) -> float:
        return now - self.last

    def expired(self, now: float) -> bool:
        return self.silent_for(now) >= self.timeout_s


class FirmwareInquiry:
    """One round of inquiries (FwVersion, GitHash); ``active`` until every one was answered
    or given up."""

    def __init__(self, timeout_s: float, retries: int, log: logging.Logger) -> None:
        self.timeout_s = timeout_s
        self.tries = retries + 1
        self.log = log
        self._queue: list[Com] = []
        self._sent_at = 0.0
        self._sent = 0

    @property
    def active(self) -> bool:
        return bool(self._queue)

    @property
    def outstanding(self) -> Com | None:
        return self._queue[0] if self._queue else None

    def start(self, now: float) -> list[Effect]:
        self._queue = list(FIRMWARE_INQUIRIES)
        self._sent = 0
        return self._send(now)

    def cancel(self) -> None:
        self._queue = []

    def answered(self, com: Com, now: float) -> list[Effect]:
        """An answer for ``com`` arrived: ask the next one (unsolicited answers change nothing)."""
        if self.outstanding is not com:
            return []
        return self._next(now)

    def tick(self, now: float) -> list[Effect]:
        com = self.outstanding
        if com is None or now - self._sent_at < self.timeout_s:
            return []
        if self._sent < self.tries:
            return self._send(now)
        self.log.warning(
            "Safety controller did not answer the %s inquiry (%d tries)", com.name, self.tries
        )
        return self._next(now)

    def _next(self, now: float) -> list[Effect]:
        self._queue.pop(0)
        self._sent = 0
        return self._send(now) if self._queue else []

    def _send(self, now: float) -> list[Effect]:
        self._sent += 1
        self._sent_at = now
        return [SendMessage(Inquiry(com=int(self._queue[0])))]
