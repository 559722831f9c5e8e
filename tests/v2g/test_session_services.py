# SPDX-License-Identifier: Apache-2.0
"""ServiceDiscovery, ServiceDetail and ServiceSelection: MCS 8 (MCS_BPT 9), DC 2."""

import logging

import pytest
from secc_support import make, run

from ccy.evse.contract import ControlMode
from ccy.v2g.session import (
    MobilityNeedsMode,
    OfferError,
    ServiceId,
    SessionSettings,
)


async def _authorized(settings: SessionSettings | None = None):  # type: ignore[no-untyped-def]
    _, ev, evse = make(settings=settings)
    await ev.through_authorization()
    return ev, evse


def _ids(answer) -> list[int]:  # type: ignore[no-untyped-def]
    return [s["ServiceID"] for s in answer.body["EnergyTransferServiceList"]["Service"]]


def test_discovery_offers_mcs_then_dc_without_renegotiation() -> None:
    async def go() -> None:
        ev, _ = await _authorized()
        answer = await ev.service_discovery()
        assert _ids(answer) == [8, 2]
        assert answer.body["ServiceRenegotiationSupported"] is False
        assert all(
            s["FreeService"] is False for s in answer.body["EnergyTransferServiceList"]["Service"]
        )
        assert "VASList" not in answer.body

    run(go())


def test_discovery_offers_mcs_bpt_when_configured() -> None:
    settings = SessionSettings(services=(ServiceId.MCS, ServiceId.MCS_BPT, ServiceId.DC))

    async def go() -> None:
        ev, _ = await _authorized(settings)
        assert _ids(await ev.service_discovery()) == [8, 9, 2]

    run(go())


def test_discovery_filters_by_the_evs_supported_ids() -> None:
    async def go() -> None:
        ev, _ = await _authorized()
        assert _ids(await ev.service_discovery([2, 6])) == [2]

    run(go())


def test_discovery_with_nothing_in_common_lists_what_exists() -> None:
    async def go() -> None:
        ev, _ = await _authorized()
        assert _ids(await ev.service_discovery([1, 5])) == [8, 2]

    run(go())


def _params(answer) -> list[dict[str, int]]:  # type: ignore[no-untyped-def]
    return [
        {p["Name"]: p["intValue"] for p in s["Parameter"]}
        for s in answer.body["ServiceParameterList"]["ParameterSet"]
    ]


def test_mcs_detail_lists_connector_control_modes_mobility_and_pricing() -> None:
    async def go() -> None:
        ev, _ = await _authorized()
        await ev.service_discovery()
        answer = await ev.service_detail(8)
        assert answer.body["ServiceID"] == 8
        assert _params(answer) == [
            {"Connector": 1, "ControlMode": 2, "MobilityNeedsMode": 1, "Pricing": 0},
            {"Connector": 1, "ControlMode": 1, "MobilityNeedsMode": 1, "Pricing": 0},
        ]
        ids = [s["ParameterSetID"] for s in answer.body["ServiceParameterList"]["ParameterSet"]]
        assert ids == [1, 2]
        dc = await ev.service_detail(2)  # repeatable
        assert _params(dc)[0]["Connector"] == 2  # DC Extended

    run(go())


def test_scheduled_forces_provided_by_evcc_and_bpt_adds_its_parameters() -> None:
    settings = SessionSettings(
        services=(ServiceId.MCS_BPT,),
        control_modes=(ControlMode.SCHEDULED, ControlMode.DYNAMIC),
        mobility_needs_modes=(
            MobilityNeedsMode.PROVIDED_BY_EVCC,
            MobilityNeedsMode.PROVIDED_BY_SECC,
        ),
    )
    sets = settings.parameter_sets(ServiceId.MCS_BPT)
    assert [(s.control_mode, s.mobility_needs) for s in sets] == [
        (ControlMode.SCHEDULED, MobilityNeedsMode.PROVIDED_BY_EVCC),
        (ControlMode.DYNAMIC, MobilityNeedsMode.PROVIDED_BY_EVCC),
        (ControlMode.DYNAMIC, MobilityNeedsMode.PROVIDED_BY_SECC),
    ]
    assert [name for name, _ in sets[0].parameters][-2:] == ["BPTChannel", "GeneratorMode"]
    settings.check()


def test_offers_beyond_libcbv2g_limits_or_empty_are_refused() -> None:
    with pytest.raises(OfferError, match="no energy transfer service"):
        SessionSettings(services=()).check()
    with pytest.raises(OfferError, match="no control mode"):
        SessionSettings(control_modes=()).check()
    # Every set stays ≤ 8 parameters and ≤ 4 sets for every configuration the enums allow.
    with pytest.raises(OfferError, match="only those the -20 DC messages carry"):
        SessionSettings(services=(ServiceId.AC,)).check()
    with pytest.raises(OfferError, match="each once"):
        SessionSettings(services=(ServiceId.MCS, ServiceId.MCS)).check()
    widest = SessionSettings(
        services=(ServiceId.MCS, ServiceId.MCS_BPT, ServiceId.DC, ServiceId.DC_BPT),
        control_modes=(ControlMode.DYNAMIC, ControlMode.SCHEDULED),
        mobility_needs_modes=tuple(MobilityNeedsMode),
    )
    widest.check()
    assert all(len(widest.parameter_sets(s)) <= 4 for s in widest.services)


def test_detail_of_a_service_not_offered_fails() -> None:
    async def go() -> None:
        ev, _ = await _authorized()
        await ev.service_discovery()
        answer = await ev.service_detail(1)
        assert answer.code == "FAILED_ServiceIDInvalid" and answer.close

    run(go())


def test_selection_logs_the_seed_line(caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        _, ev, _ = make()
        with caplog.at_level(logging.INFO):
            await ev.through_selection(ControlMode.DYNAMIC)
        assert ev.handler.ctx.service is ServiceId.MCS
        assert ev.handler.ctx.control_mode is ControlMode.DYNAMIC

    run(go())
    assert (
        "Selected MCS service parameters: control mode: Dynamic, mobility needs mode: "
        "ProvidedByEvcc" in caplog.text
    )


@pytest.mark.parametrize(("service", "set_id"), [(8, 9), (1, 1), (9, 1)])
def test_selection_of_something_not_offered_fails(service: int, set_id: int) -> None:
    async def go() -> None:
        ev, _ = await _authorized()
        await ev.service_discovery()
        answer = await ev.service_selection(service, set_id)
        assert answer.code == "FAILED_ServiceSelectionInvalid" and answer.close

    run(go())


def test_selection_with_value_added_services_fails() -> None:
    from ccy.v2g.exi import Namespace

    async def go() -> None:
        ev, _ = await _authorized()
        await ev.service_discovery()
        body = {
            "SelectedEnergyTransferService": {"ServiceID": 8, "ParameterSetID": 1},
            "SelectedVASList": {"SelectedService": [{"ServiceID": 65, "ParameterSetID": 1}]},
        }
        answer = await ev.send(Namespace.CM, "ServiceSelectionReq", body)
        assert answer.code == "FAILED_ServiceSelectionInvalid"

    run(go())


def test_detail_before_discovery_is_a_sequence_error() -> None:
    async def go() -> None:
        ev, _ = await _authorized()
        assert (await ev.service_detail(8)).code == "FAILED_SequenceError"

    run(go())
