# SPDX-License-Identifier: Apache-2.0
"""DC_ChargeParameterDiscovery and ScheduleExchange (Dynamic and Scheduled).

The EV's limits go to ccy-evse (Evse1.ChargeParameters), which answers with the EVSE's limits
after its clamp; the schedule comes from Evse1.Schedule. A Scheduled answer carries one
ScheduleTuple (of at most 3) and fewer PowerScheduleEntry items than the EV's
MaximumSupportingPoints and the schema's 1024: never a full list (libcbv2g).

Both control modes carry an AbsolutePriceSchedule (a zero price over the schedule's horizon):
the schema makes the price schedules optional, but Josev's EVCC (iso15118 0.26.0) refuses a
Dynamic_SEResControlMode or a ChargingSchedule without exactly one of PriceLevelSchedule /
AbsolutePriceSchedule, and ends the session. ccy-evse carries no tariff (Evse1.Schedule is
power only, the offer says Pricing NoPricing), so the price is zero; one PriceRuleStack with
one PriceRule, far below the bounds (schema 1024 / 8, libcbv2g 64 / 8).
"""

import math

from ccy.evse.contract import ControlMode, Processing
from ccy.v2g.exi import Namespace
from ccy.v2g.exi.message import Node
from ccy.v2g.session import names, timeouts
from ccy.v2g.session.base import (
    ZERO,
    Answer,
    Body,
    Env,
    State,
    ongoing_done,
    ongoing_expired,
    rational,
)
from ccy.v2g.session.context import SessionContext
from ccy.v2g.session.port import EvChargeLimits, EvsePortError, ScheduleEntry
from ccy.v2g.session.rational import optional, to_float

DAY_S = 86400.0
PRICE_ALGORITHM = "urn:iso:std:iso:15118:-20:PriceAlgorithm:1-Power"
"""The -20 price algorithm of an AbsolutePriceSchedule (power-based; the one Josev uses)."""
PRICE_SCHEDULE_ID = 1
MAX_ENTRIES = 1023
"""Below the schema's 1024 PowerScheduleEntry: a full list is what libcbv2g mis-decodes."""

_EV_KEYS = (
    ("max_voltage", "EVMaximumVoltage"),
    ("min_voltage", "EVMinimumVoltage"),
    ("max_current", "EVMaximumChargeCurrent"),
    ("min_current", "EVMinimumChargeCurrent"),
    ("max_power", "EVMaximumChargePower"),
    ("min_power", "EVMinimumChargePower"),
)


def cpd_res_mode(ctx: SessionContext, limits: dict[str, float]) -> tuple[str, Body]:
    """(element name, body) of DC_CPDResEnergyTransferMode (BPT: zero discharge limits, as
    Evse1 carries none yet)."""
    get = limits.get

    def r(key: str) -> dict[str, int]:
        value = get(key, 0.0)
        return rational(value) if math.isfinite(value) else dict(ZERO)

    mode: Body = {
        "EVSEMaximumChargePower": r("max_power"),
        "EVSEMinimumChargePower": r("min_power"),
        "EVSEMaximumChargeCurrent": r("max_current"),
        "EVSEMinimumChargeCurrent": r("min_current"),
        "EVSEMaximumVoltage": r("max_voltage"),
        "EVSEMinimumVoltage": r("min_voltage"),
    }
    if ctx.bpt:
        for key in (
            "EVSEMaximumDischargePower",
            "EVSEMinimumDischargePower",
            "EVSEMaximumDischargeCurrent",
            "EVSEMinimumDischargeCurrent",
        ):
            mode[key] = dict(ZERO)
        return "BPT_DC_CPDResEnergyTransferMode", mode
    return "DC_CPDResEnergyTransferMode", mode


class ChargeParameterDiscovery(State):
    """DC_ChargeParameterDiscoveryReq → the EVSE's limits from ccy-evse."""

    request = names.CHARGE_PARAMETER_DISCOVERY
    namespace = Namespace.DC
    requirement = "ISO 15118-20 DC_ChargeParameterDiscovery (V2G_CI_DC.xsd)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        mode = body.get("DC_CPDReqEnergyTransferMode") or body.get(
            "BPT_DC_CPDReqEnergyTransferMode"
        )
        if mode is None:
            ctx.last_error = "DC_ChargeParameterDiscoveryReq without a DC transfer mode"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        ev = {key: optional(mode, element) for key, element in _EV_KEYS}
        ctx.ev_limits.update(ev)
        try:
            got = await env.evse.charge_parameters(EvChargeLimits(**ev))
        except EvsePortError as exc:
            ctx.last_error = f"ChargeParameters: {exc}"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        ctx.evse_limits = {
            "max_voltage": got.max_voltage,
            "min_voltage": got.min_voltage,
            "max_current": got.max_current,
            "min_current": got.min_current,
            "max_power": got.max_power,
            "min_power": got.min_power,
        }
        element, res = cpd_res_mode(ctx, ctx.evse_limits)
        return Answer({"ResponseCode": "OK", element: res}, names.allow(names.SCHEDULE_EXCHANGE))

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        element, res = cpd_res_mode(ctx, {})
        return {"ResponseCode": code, element: res}


def power_schedule(
    entries: list[ScheduleEntry], horizon_s: float, max_entries: int, anchor: int
) -> Body:
    """Evse1.Schedule's (start, W) list as a PowerSchedule: durations between starts, the
    last one until the horizon; at most ``max_entries`` entries."""
    cleaned = sorted((max(0.0, s), p) for s, p in entries if math.isfinite(p))[:max_entries]
    rows = []
    for index, (start, power) in enumerate(cleaned):
        end = cleaned[index + 1][0] if index + 1 < len(cleaned) else max(horizon_s, start + 1)
        rows.append({"Duration": int(max(1, round(end - start))), "Power": rational(power)})
    return {"TimeAnchor": anchor, "PowerScheduleEntries": {"PowerScheduleEntry": rows}}


def zero_price_schedule(anchor: int, duration_s: float, currency: str, language: str) -> Body:
    """An AbsolutePriceSchedule with price 0 from ``anchor`` for ``duration_s`` seconds."""
    return {
        "TimeAnchor": anchor,
        "PriceScheduleID": PRICE_SCHEDULE_ID,
        "Currency": currency,
        "Language": language,
        "PriceAlgorithm": PRICE_ALGORITHM,
        "PriceRuleStacks": {
            "PriceRuleStack": [
                {
                    "Duration": int(max(0, min(duration_s, 0xFFFFFFFF))),
                    "PriceRule": [{"EnergyFee": dict(ZERO), "PowerRangeStart": dict(ZERO)}],
                }
            ]
        },
    }


class ScheduleExchange(State):
    """ScheduleExchangeReq → Dynamic (a price schedule only) or Scheduled (one tuple from
    ccy-evse); both with a zero AbsolutePriceSchedule (see the module's note)."""

    request = names.SCHEDULE_EXCHANGE
    requirement = "ISO 15118-20 ScheduleExchange; design/v2g.md (Ongoing up to 55 s)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        mode = ctx.control_mode or ControlMode.DYNAMIC
        req_mode = body.get("Dynamic_SEReqControlMode") or body.get("Scheduled_SEReqControlMode")
        departure = math.nan
        if req_mode is not None and "DepartureTime" in req_mode:
            departure = float(req_mode.DepartureTime)
        for key in ("EVTargetEnergyRequest", "EVMaximumEnergyRequest", "EVMinimumEnergyRequest"):
            if req_mode is not None and key in req_mode:
                ctx.ev_targets[key] = to_float(req_mode[key])
        try:
            processing, schedule = await env.evse.schedule(mode, departure)
        except EvsePortError as exc:
            ctx.last_error = f"Schedule: {exc}"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if processing is Processing.ONGOING:
            if ongoing_expired(env, ctx, "ScheduleExchange", timeouts.ONGOING.seconds):
                ctx.last_error = "no schedule in time"
                return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
            return Answer(
                {
                    "ResponseCode": "OK",
                    "EVSEProcessing": "Ongoing",
                    **self._mode(env, ctx, mode, [], departure, int(body.MaximumSupportingPoints)),
                },
                names.allow(names.SCHEDULE_EXCHANGE),
            )
        ongoing_done(ctx, "ScheduleExchange")
        return Answer(
            {
                "ResponseCode": "OK",
                "EVSEProcessing": "Finished",
                **self._mode(
                    env, ctx, mode, schedule, departure, int(body.MaximumSupportingPoints)
                ),
            },
            names.allow(names.CABLE_CHECK),
        )

    @staticmethod
    def _mode(
        env: Env,
        ctx: SessionContext,
        mode: ControlMode,
        schedule: list[ScheduleEntry],
        departure: float,
        max_points: int,
    ) -> Body:
        horizon = departure if math.isfinite(departure) and departure > 0 else DAY_S
        anchor = int(env.clock())
        settings = env.settings
        price = zero_price_schedule(anchor, horizon, settings.currency, settings.price_language)
        if mode is ControlMode.DYNAMIC:
            dynamic: Body = {}
            if math.isfinite(departure):
                dynamic["DepartureTime"] = int(departure)
            dynamic["AbsolutePriceSchedule"] = price
            return {"Dynamic_SEResControlMode": dynamic}
        if not schedule:
            schedule = [(0.0, ctx.evse_limits.get("max_power", 0.0))]
        limit = max(1, min(MAX_ENTRIES, max_points))
        tuple_ = {
            "ScheduleTupleID": 1,
            "ChargingSchedule": {
                "PowerSchedule": power_schedule(schedule, horizon, limit, anchor),
                "AbsolutePriceSchedule": price,
            },
        }
        return {"Scheduled_SEResControlMode": {"ScheduleTuple": [tuple_]}}

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {
            "ResponseCode": code,
            "EVSEProcessing": "Finished",
            "Dynamic_SEResControlMode": {
                "AbsolutePriceSchedule": zero_price_schedule(
                    int(env.clock()), DAY_S, env.settings.currency, env.settings.price_language
                )
            },
        }
