# SPDX-License-Identifier: Apache-2.0
"""Link liveness, firmware inquiries and resets in the core, on a fake clock (issue 9,
"Transport apart from protocol"). b7fc2e9 had all of this in the UART class, driven by
asyncio timers, with no direct test; none of these inputs existed on its core."""

import dataclasses

import pytest
from bsp_core_kit import SETTINGS, active, cs, make

from ccy.bsp.core import ResetMcu, SendMessage
from ccy.bsp.protocol.codes import ErrorModule
from ccy.bsp.protocol.frame import Com
from ccy.bsp.protocol.messages import ErrorMessage, FwVersion, GitHash, Inquiry

ASK_FW = SendMessage(Inquiry(Com.FW_VERSION))
ASK_GIT = SendMessage(Inquiry(Com.GIT_HASH))
TIMEOUT = SETTINGS.firmware_inquiry_timeout_s


def test_link_up_asks_for_firmware_then_git_hash_and_logs_the_seed_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core, _ = make()
    caplog.set_level("INFO")
    assert core.on_message(cs(), 0.0) == [ASK_FW]
    assert core.on_message(cs(), 0.01) == []  # asked once per link-up
    assert core.on_message(FwVersion(0, 2, 3), 0.02) == [ASK_GIT]
    assert core.on_message(GitHash(0x5638A7E18ECCE8F0), 0.03) == []
    lines = [r.getMessage() for r in caplog.records]
    assert "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)" in lines
    assert core.tick(1.0) == []  # nothing outstanding


def test_an_unanswered_inquiry_is_retried_then_given_up(caplog: pytest.LogCaptureFixture) -> None:
    core, _ = make()
    core.on_message(cs(), 0.0)
    assert core.tick(TIMEOUT * 0.9) == []
    tries = 1
    now = 0.0
    while tries < SETTINGS.firmware_inquiry_retries + 1:
        now += TIMEOUT
        assert core.tick(now) == [ASK_FW]
        tries += 1
    now += TIMEOUT
    assert core.tick(now) == [ASK_GIT]  # FwVersion given up, on to the next
    assert "did not answer the FW_VERSION inquiry (4 tries)" in caplog.text


def test_an_unsolicited_answer_updates_the_state_but_not_the_round() -> None:
    core, _ = make()
    core.on_message(cs(), 0.0)
    assert core.on_message(GitHash(1), 0.01) == []
    assert core.state.git_hash == "g0000000000000001"
    assert core.on_message(FwVersion(1, 0, 0), 0.02) == [ASK_GIT]


def test_firmware_is_asked_again_when_the_link_returns() -> None:
    core, _ = make()
    core.on_message(cs(), 0.0)
    core.on_message(FwVersion(0, 2, 3), 0.01)
    core.on_message(GitHash(1), 0.02)
    core.tick(1.5)
    assert core.state.link_up is False
    assert core.on_message(cs(), 3.0) == [ASK_FW]


def test_link_loss_cancels_the_inquiries() -> None:
    core, _ = make()
    core.on_message(cs(), 0.0)
    core.tick(1.5)
    assert core.tick(1.5 + 10 * TIMEOUT) == []


def test_link_lost_only_once_and_cleared_by_the_next_charge_state() -> None:
    core, errors = make()
    core.on_message(cs(), 0.0)
    core.tick(1.5)
    (err,) = errors.active()
    assert err.type == "LinkLost" and "for 1.5 s" in err.message
    core.tick(5.0)
    assert errors.active() == [err]
    core.on_message(cs(), 5.1)
    assert active(errors) == set()
    assert core.state.link_up


def test_start_resets_the_mcu_and_frames_during_the_reset_are_ignored() -> None:
    core, _ = make()
    assert core.start(0.0) == [ResetMcu("start-up")]
    assert core.on_message(cs(), 0.1) == []
    assert core.state.link_up is False
    core.on_reset_done(0.31)
    assert core.on_message(cs(), 0.4) == [ASK_FW]


def test_start_without_reset_line_just_waits() -> None:
    core, _ = make(dataclasses.replace(SETTINGS, reset_line_driver="none"))
    assert core.start(0.0) == []


def test_no_link_lost_during_a_reset_and_a_full_timeout_after_it() -> None:
    core, errors = make()
    core.on_message(cs(), 0.0)
    core.request_reset(0.1, "operator")
    core.tick(3.0)  # the glue is still pulsing / waiting
    assert active(errors) == set()
    core.on_reset_done(3.0)
    core.tick(4.4)
    assert active(errors) == set()
    core.tick(4.5)
    assert active(errors) == {("LinkLost", "")}
    assert "since its reset" in errors.active()[0].message


def test_reset_done_clears_the_mcu_reported_errors() -> None:
    """A restarted MCU reports its ErrorMessages afresh; ours would otherwise never clear."""
    core, errors = make()
    core.on_message(cs(), 0.0)
    core.on_message(ErrorMessage(active=True, module=ErrorModule.APP_TEMP, reason=1), 0.0)
    core.on_message(ErrorMessage(active=True, module=ErrorModule.APP_HVSWITCH, reason=2), 0.0)
    assert active(errors) == {("McuWarning", "APP_TEMP"), ("HvSwitchFault", "")}
    core.request_reset(0.1, "operator")
    core.on_reset_done(0.4)
    assert active(errors) == set()
