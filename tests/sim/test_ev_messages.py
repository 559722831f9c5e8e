# SPDX-License-Identifier: Apache-2.0
"""The EV simulator's requests are valid -20 messages (our codec checks every facet on encode),
in both control modes, and the CLI refuses bad options in one line."""

import pytest

from ccy.sim.ev import cli
from ccy.sim.ev import messages as m
from ccy.sim.ev.evcc import Fault
from ccy.sim.ev.messages import ControlMode, Vehicle
from ccy.v2g.exi import Namespace, decode, encode

H = m.header("3D4CBF93374ED89B", 1725456327)
EV = Vehicle()


def _all(mode: ControlMode) -> list[m.Json]:
    return [
        m.supported_app_protocol_req(),
        m.session_setup_req(m.header("0000000000000000", 1), EV),
        m.authorization_setup_req(H),
        m.authorization_req(H),
        m.service_discovery_req(H),
        m.service_detail_req(H, 8),
        m.service_selection_req(H, 8, 1),
        m.dc_charge_parameter_discovery_req(H, EV),
        m.schedule_exchange_req(H, EV, mode, 20),
        m.dc_cable_check_req(H),
        m.dc_pre_charge_req(H, EV, 0.0, False),
        m.dc_pre_charge_req(H, EV, 799.5, True),
        m.power_delivery_req(H, True, mode, 1),
        m.dc_charge_loop_req(H, EV, mode, 800.0, 20, False),
        m.power_delivery_req(H, False, mode),
        m.dc_welding_detection_req(H),
        m.session_stop_req(H, pause=True),
        m.session_stop_req(H, pause=False),
    ]


@pytest.mark.parametrize("mode", list(ControlMode))
def test_every_request_encodes_and_decodes_unchanged(mode: ControlMode) -> None:
    for doc in _all(mode):
        ((name, _),) = doc.items()
        if name == "supportedAppProtocolReq":
            ns = Namespace.SAP
        else:
            ns = Namespace.DC if name.startswith("DC_") else Namespace.CM
        assert decode(ns, encode(ns, doc)) == doc, name


def test_control_mode_picks_the_substitution_group_member() -> None:
    dyn = m.dc_charge_loop_req(H, EV, ControlMode.DYNAMIC, 800, 20, False)["DC_ChargeLoopReq"]
    sch = m.dc_charge_loop_req(H, EV, ControlMode.SCHEDULED, 800, 20, False)["DC_ChargeLoopReq"]
    assert "Dynamic_DC_CLReqControlMode" in dyn and "Scheduled_DC_CLReqControlMode" in sch
    pd = m.power_delivery_req(H, True, ControlMode.SCHEDULED, 3)["PowerDeliveryReq"]
    assert pd["EVPowerProfile"]["Scheduled_EVPPTControlMode"]["SelectedScheduleTupleID"] == 3
    dyn_pd = m.power_delivery_req(H, True, ControlMode.DYNAMIC, 3)["PowerDeliveryReq"]
    assert dyn_pd["EVPowerProfile"]["Dynamic_EVPPTControlMode"] == {}
    assert (
        "EVPowerProfile"
        not in m.power_delivery_req(H, False, ControlMode.DYNAMIC)["PowerDeliveryReq"]
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (800.0, {"Exponent": 0, "Value": 800}),
        (1_000_000, {"Exponent": 2, "Value": 10000}),
        (0.5, {"Exponent": -1, "Value": 5}),
        (-20_000, {"Exponent": 0, "Value": -20000}),
        (40_000, {"Exponent": 1, "Value": 4000}),
        (57 / 100 * 600_000, {"Exponent": 2, "Value": 3420}),  # 342000.00000000006
        (1 / 3, {"Exponent": -3, "Value": 333}),
    ],
)
def test_rational(value: float, expected: dict[str, int]) -> None:
    assert m.rational(value) == expected
    assert m.value_of(expected) == pytest.approx(value, rel=1e-3)


def test_seed_names() -> None:
    assert m.seed_name("DC_ChargeParameterDiscoveryReq") == "DcChargeParameterDiscoveryReq"
    assert m.seed_name("supportedAppProtocolRes") == "SupportedAppProtocolRes"
    assert m.seed_name("SessionSetupReq") == "SessionSetupReq"


def test_fault_parse() -> None:
    assert Fault.parse("silence-after=4") == Fault("silence-after", 4)
    assert Fault.parse("drop-tls") == Fault("drop-tls")
    for bad in ("silence-after", "silence-after=x", "crash", "drop-tls=3"):
        with pytest.raises(ValueError):
            Fault.parse(bad)


def test_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--port", "1", "--fault", "crash"]) == 1
    assert capsys.readouterr().err.startswith("ccy-sim ev: unknown fault 'crash'")
    assert cli.main(["--port", "1", "--fault", "drop-tls"]) == 1
    assert "needs --tls" in capsys.readouterr().err
    assert cli.main([]) == 1
    assert "say where the SECC is" in capsys.readouterr().err
    assert cli.main(["--port", "9", "--tls"]) == 1
    assert "--tls needs --root-ca" in capsys.readouterr().err
