# SPDX-License-Identifier: Apache-2.0
"""DC_CableCheck, DC_PreCharge, PowerDelivery, DC_ChargeLoop and DC_WeldingDetection.

Each request makes one call to ccy-evse and answers with what it returns (contracts.md);
DC_ChargeLoop makes exactly one Evse1.ChargeLoop call (the hot path's one bus hop).

EVSE notifications (Evse1's ``notification``):
- EmergencyShutdown: ResponseCode FAILED (with EVSEStatus Terminate where the response has an
  EVSEStatus); the session ends.
- Terminate: EVSEStatus Terminate in PowerDeliveryRes/DC_ChargeLoopRes (the EV stops with
  PowerDelivery Stop); before charging (DC_CableCheck, DC_PreCharge: no EVSEStatus in their
  responses) ResponseCode FAILED ends the session; in DC_WeldingDetection the EV is stopping
  already and the answer is unchanged.
- Pause: EVSEStatus Pause in PowerDeliveryRes/DC_ChargeLoopRes; elsewhere it waits for the
  next of those (ccy-evse keeps answering Pause while it holds).
"""

import math

from ccy.evse.contract import ChargeProgress, ControlMode, IsolationStatus, Notification, Processing
from ccy.v2g.exi import Namespace
from ccy.v2g.exi.message import Node
from ccy.v2g.session import names, timeouts
from ccy.v2g.session.base import (
    ZERO,
    Answer,
    Body,
    Env,
    State,
    evse_status,
    ongoing_done,
    ongoing_expired,
    rational,
)
from ccy.v2g.session.context import SessionContext
from ccy.v2g.session.port import ChargeLoopAnswer, ChargeLoopRequest, EvsePortError
from ccy.v2g.session.rational import optional, to_float

STOPPING = (Notification.TERMINATE, Notification.EMERGENCY_SHUTDOWN)


def _r(value: float) -> dict[str, int]:
    return rational(value) if math.isfinite(value) else dict(ZERO)


class CableCheck(State):
    """DC_CableCheckReq → Ongoing until ccy-evse's cable check is Finished."""

    request = names.CABLE_CHECK
    namespace = Namespace.DC
    requirement = "ISO 15118-20 DC_CableCheck; IEC 61851-23; design/v2g.md (repeated while Ongoing)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        try:
            got = await env.evse.cable_check()
        except EvsePortError as exc:
            ctx.last_error = f"CableCheck: {exc}"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if got.notification in STOPPING or got.isolation is IsolationStatus.FAULT:
            ctx.last_error = f"cable check stopped (isolation {got.isolation}, {got.notification})"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if got.processing is Processing.ONGOING:
            if ongoing_expired(env, ctx, "DC_CableCheck", timeouts.CABLE_CHECK.seconds):
                ctx.last_error = "cable check not finished in time"
                return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
            return Answer(
                {"ResponseCode": "OK", "EVSEProcessing": "Ongoing"}, names.allow(names.CABLE_CHECK)
            )
        ongoing_done(ctx, "DC_CableCheck")
        return Answer(
            {"ResponseCode": "OK", "EVSEProcessing": "Finished"}, names.allow(names.PRE_CHARGE)
        )

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {"ResponseCode": code, "EVSEProcessing": "Finished"}


class PreCharge(State):
    """DC_PreChargeReq → the present voltage while ccy-evse follows the EV's target."""

    request = names.PRE_CHARGE
    namespace = Namespace.DC
    requirement = "ISO 15118-20 DC_PreCharge; IEC 61851-23 precharge"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        target = to_float(body.EVTargetVoltage)
        ctx.ev_targets["EVTargetVoltage"] = target
        ctx.ev_targets["EVPresentVoltage"] = to_float(body.EVPresentVoltage)
        try:
            got = await env.evse.pre_charge(target, env.settings.pre_charge_current_A)
        except EvsePortError as exc:
            ctx.last_error = f"PreCharge: {exc}"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if got.notification in STOPPING:
            ctx.last_error = f"precharge stopped by ccy-evse ({got.notification})"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if ongoing_expired(env, ctx, "DC_PreCharge", timeouts.PRE_CHARGE.seconds):
            ctx.last_error = "precharge not finished in time"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        return Answer(
            {"ResponseCode": "OK", "EVSEPresentVoltage": _r(got.present_voltage)},
            names.allow(names.PRE_CHARGE, names.POWER_DELIVERY),
        )

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {"ResponseCode": code, "EVSEPresentVoltage": dict(ZERO)}


class PowerDelivery(State):
    """PowerDeliveryReq → Start (after precharge), Stop, Standby; forwarded to ccy-evse.

    Start with EVProcessing Ongoing (the EV still prepares, as Josev's EVCC does several
    times) is answered OK without a call; Stop is forwarded whatever EVProcessing says."""

    request = names.POWER_DELIVERY
    requirement = "ISO 15118-20 PowerDelivery; design/v2g.md (contactor 3 s)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        ongoing_done(ctx, "DC_PreCharge")
        try:
            progress = ChargeProgress(str(body.ChargeProgress))
        except ValueError:
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        ev_processing = str(body.EVProcessing)
        if progress is ChargeProgress.START and ev_processing == "Ongoing":
            return Answer({"ResponseCode": "OK"}, names.allow(names.POWER_DELIVERY))
        if progress is ChargeProgress.SCHEDULE_RENEGOTIATION:
            return Answer(
                {"ResponseCode": "WARNING_ScheduleRenegotiationFailed"},
                names.allow(names.CHARGE_LOOP, names.POWER_DELIVERY),
            )
        if progress is ChargeProgress.START and not self._tuple_ok(ctx, body):
            ctx.last_error = "PowerDelivery selected a schedule tuple that was not offered"
            return Answer(
                self.failed(env, ctx, "FAILED_ScheduleSelectionInvalid"), frozenset(), end=True
            )
        try:
            notification = await env.evse.power_delivery(progress)
        except EvsePortError as exc:
            ctx.last_error = f"PowerDelivery {progress}: {exc}"
            return Answer(
                self.failed(env, ctx, "FAILED_PowerDeliveryNotApplied"), frozenset(), end=True
            )
        reply: Body = {"ResponseCode": "OK"}
        status = evse_status(notification)
        if notification is Notification.EMERGENCY_SHUTDOWN:
            reply["ResponseCode"] = "FAILED"
        if status is not None:
            reply["EVSEStatus"] = status
        if reply["ResponseCode"] == "FAILED":
            ctx.last_error = "emergency shutdown from ccy-evse"
            return Answer(reply, frozenset(), end=True)
        if progress is ChargeProgress.START or progress is ChargeProgress.STANDBY:
            nxt = names.allow(names.CHARGE_LOOP, names.POWER_DELIVERY)
        else:  # Stop
            nxt = names.allow(names.WELDING_DETECTION, names.POWER_DELIVERY)
        return Answer(reply, nxt)

    @staticmethod
    def _tuple_ok(ctx: SessionContext, body: Node) -> bool:
        profile = body.get("EVPowerProfile")
        if profile is None or ctx.control_mode is not ControlMode.SCHEDULED:
            return True
        scheduled = profile.get("Scheduled_EVPPTControlMode")
        return scheduled is None or int(scheduled.SelectedScheduleTupleID) == 1

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {"ResponseCode": code}


def _loop_request(body: Node) -> ChargeLoopRequest:
    scheduled = body.get("Scheduled_DC_CLReqControlMode") or body.get(
        "BPT_Scheduled_DC_CLReqControlMode"
    )
    dynamic = body.get("Dynamic_DC_CLReqControlMode") or body.get("BPT_Dynamic_DC_CLReqControlMode")
    mode = scheduled if scheduled is not None else dynamic
    display = body.get("DisplayParameters")
    soc = math.nan
    if display is not None and "PresentSOC" in display:
        soc = float(display.PresentSOC)
    present = to_float(body.EVPresentVoltage)
    if mode is None:
        return ChargeLoopRequest(present_voltage=present, soc=soc)
    return ChargeLoopRequest(
        target_voltage=optional(mode, "EVTargetVoltage") if scheduled is not None else math.nan,
        target_current=optional(mode, "EVTargetCurrent") if scheduled is not None else math.nan,
        max_voltage=optional(mode, "EVMaximumVoltage"),
        max_current=optional(mode, "EVMaximumChargeCurrent"),
        max_power=optional(mode, "EVMaximumChargePower"),
        present_voltage=present,
        soc=soc,
    )


def _loop_mode(ctx: SessionContext, got: ChargeLoopAnswer | None) -> tuple[str, Body]:
    """The CLResControlMode element of the selected control mode."""
    mode = ctx.control_mode or ControlMode.SCHEDULED
    body: Body = {
        "EVSEMaximumChargePower": _r(got.max_power) if got else dict(ZERO),
        "EVSEMinimumChargePower": _r(got.min_power) if got else dict(ZERO),
        "EVSEMaximumChargeCurrent": _r(got.max_current) if got else dict(ZERO),
        "EVSEMaximumVoltage": _r(got.max_voltage) if got else dict(ZERO),
    }
    prefix = "BPT_" if ctx.bpt else ""
    if ctx.bpt:
        body["EVSEMaximumDischargePower"] = dict(ZERO)
        body["EVSEMinimumDischargePower"] = dict(ZERO)
        body["EVSEMaximumDischargeCurrent"] = dict(ZERO)
        body["EVSEMinimumVoltage"] = _r(ctx.evse_limits.get("min_voltage", 0.0))
    if mode is ControlMode.DYNAMIC:
        return f"{prefix}Dynamic_DC_CLResControlMode", body
    if got is None:
        return f"{prefix}Scheduled_DC_CLResControlMode", {}
    return f"{prefix}Scheduled_DC_CLResControlMode", body


class ChargeLoop(State):
    """DC_ChargeLoopReq → exactly one Evse1.ChargeLoop; present values, limits, notification."""

    request = names.CHARGE_LOOP
    namespace = Namespace.DC
    requirement = "ISO 15118-20 DC_ChargeLoop; contracts.md (one bus hop, p99 ≤ 5 ms)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        request = _loop_request(body)
        ctx.charge_loops += 1
        ctx.soc = request.soc
        for key, value in (
            ("EVTargetVoltage", request.target_voltage),
            ("EVTargetCurrent", request.target_current),
            ("EVMaximumVoltage", request.max_voltage),
            ("EVMaximumChargeCurrent", request.max_current),
            ("EVMaximumChargePower", request.max_power),
            ("EVPresentVoltage", request.present_voltage),
        ):
            if math.isfinite(value):
                ctx.ev_targets[key] = value
        try:
            got = await env.evse.charge_loop(request)
        except EvsePortError as exc:
            ctx.last_error = f"ChargeLoop: {exc}"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        element, mode = _loop_mode(ctx, got)
        reply: Body = {
            "ResponseCode": "OK",
            "EVSEPresentCurrent": _r(got.present_current),
            "EVSEPresentVoltage": _r(got.present_voltage),
            "EVSEPowerLimitAchieved": got.power_limit_achieved,
            "EVSECurrentLimitAchieved": got.current_limit_achieved,
            "EVSEVoltageLimitAchieved": got.voltage_limit_achieved,
            element: mode,
        }
        status = evse_status(got.notification)
        if status is not None:
            reply["EVSEStatus"] = status
        if got.notification is Notification.EMERGENCY_SHUTDOWN:
            reply["ResponseCode"] = "FAILED"
            ctx.last_error = "emergency shutdown from ccy-evse"
            return Answer(reply, frozenset(), end=True)
        return Answer(reply, names.allow(names.CHARGE_LOOP, names.POWER_DELIVERY))

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        element, mode = _loop_mode(ctx, None)
        return {
            "ResponseCode": code,
            "EVSEPresentCurrent": dict(ZERO),
            "EVSEPresentVoltage": dict(ZERO),
            "EVSEPowerLimitAchieved": False,
            "EVSECurrentLimitAchieved": False,
            "EVSEVoltageLimitAchieved": False,
            element: mode,
        }


class WeldingDetection(State):
    """DC_WeldingDetectionReq → the present voltage while it falls below 60 V."""

    request = names.WELDING_DETECTION
    namespace = Namespace.DC
    requirement = "ISO 15118-20 DC_WeldingDetection; IEC 61851-23"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        try:
            got = await env.evse.welding_detection()
        except EvsePortError as exc:
            ctx.last_error = f"WeldingDetection: {exc}"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if got.notification is Notification.EMERGENCY_SHUTDOWN:
            ctx.last_error = "emergency shutdown from ccy-evse"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        return Answer(
            {"ResponseCode": "OK", "EVSEPresentVoltage": _r(got.present_voltage)},
            names.allow(names.WELDING_DETECTION),
        )

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {"ResponseCode": code, "EVSEPresentVoltage": dict(ZERO)}
