# SPDX-License-Identifier: Apache-2.0
"""The cyclic IO data layout (ccy.profinet.io_layout): sizes, offsets, byte order, round trips,
and what an odd value from the PLC decodes to."""

import math
import struct
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccy.bsp.contract import CeState, IdState
from ccy.profinet import io_layout as L
from ccy.runtime.contract import unit_contracts


def test_sizes_are_the_published_ones() -> None:
    assert (L.OUTPUT_SIZE, L.INPUT_SIZE) == (44, 32)
    assert sum(f.size for f in L.OUTPUT_FIELDS) == L.OUTPUT_SIZE
    assert sum(f.size for f in L.INPUT_FIELDS) == L.INPUT_SIZE


def test_every_multi_byte_field_is_aligned() -> None:
    for fields in (L.OUTPUT_FIELDS, L.INPUT_FIELDS):
        for field, offset in L.offsets(fields):
            assert offset % min(field.size, 4) == 0, field.name


def test_known_bytes_big_endian() -> None:
    data = L.PlcToCharger(
        status=L.PlcStatus.SUPPLY_READY | L.PlcStatus.IMD_INSTALLED,
        isolation_status=L.IsolationCode.VALID,
        stage_mode=L.StageMode.CABLE_CHECK,
        present_voltage=800.0,
        meter_energy=0x01020304,
        plc_heartbeat=0xBEEF,
    ).pack()
    assert data[0:4] == bytes([0x00, 0x05, 0x01, 0x01])
    assert data[4:8] == struct.pack(">f", 800.0) == bytes.fromhex("44480000")
    assert data[36:40] == bytes.fromhex("01020304")
    assert data[42:44] == bytes.fromhex("beef")
    inp = L.ChargerToPlc(evse_state=4, temperature_1=-1, heartbeat=0x1234).pack()
    assert inp[0] == 4 and inp[20:22] == b"\xff\xff" and inp[28:30] == b"\x12\x34"


@given(
    status=st.integers(0, 0xFF),
    iso=st.sampled_from(list(L.IsolationCode)),
    mode=st.sampled_from(list(L.StageMode)),
    floats=st.lists(st.floats(width=32, allow_nan=False), min_size=8, max_size=8),
    meter=st.integers(0, 2**32 - 1),
    code=st.integers(0, 0xFFFF),
    beat=st.integers(0, 0xFFFF),
)
def test_plc_data_round_trips(
    status: int,
    iso: L.IsolationCode,
    mode: L.StageMode,
    floats: list[float],
    meter: int,
    code: int,
    beat: int,
) -> None:
    v, a, ohm, max_v, min_v, max_a, min_a, max_w = floats
    data = L.PlcToCharger(
        L.PlcStatus(status),
        iso,
        mode,
        v,
        a,
        ohm,
        max_v,
        min_v,
        max_a,
        min_a,
        max_w,
        meter,
        code,
        beat,
    )
    assert L.PlcToCharger.unpack(data.pack()) == data


@given(raw=st.binary(min_size=L.OUTPUT_SIZE, max_size=L.OUTPUT_SIZE))
def test_any_44_bytes_decode_without_raising(raw: bytes) -> None:
    data = L.PlcToCharger.unpack(raw)
    assert data.isolation_status in L.IsolationCode
    assert data.stage_mode is None or data.stage_mode in L.StageMode


def test_an_unknown_isolation_code_is_a_fault_and_an_unknown_mode_none() -> None:
    raw = bytearray(L.PlcToCharger().pack())
    raw[2], raw[3] = 9, 77
    data = L.PlcToCharger.unpack(bytes(raw))
    assert data.isolation_status is L.IsolationCode.FAULT
    assert data.stage_mode is None
    assert math.isnan(L.PlcToCharger.unpack(L.PlcToCharger().pack()).isolation_ohm)


@pytest.mark.parametrize("size", [0, 43, 45, 1440])
def test_a_wrong_length_is_a_named_error(size: int) -> None:
    with pytest.raises(L.IoLengthError, match="44"):
        L.PlcToCharger.unpack(bytes(size))
    with pytest.raises(L.IoLengthError):
        L.ChargerToPlc.unpack(bytes(size))


def test_charger_data_round_trips() -> None:
    data = L.ChargerToPlc(
        evse_state=9,
        requested_mode=L.StageMode.DISCHARGE,
        ce_state=4,
        id_state=2,
        status=L.ChargerStatus.EMERGENCY_STOP | L.ChargerStatus.PORT_ENABLED,
        error_bits=L.ErrorBits.STOPPING_ERROR | L.ErrorBits.WARNING,
        target_voltage=812.5,
        target_current=2.0,
        derating_factor=0.5,
        temperature_2=855,
        heartbeat=65535,
    )
    assert L.ChargerToPlc.unpack(data.pack()) == data


def test_temperature_codes() -> None:
    assert L.temperature_code(72.46) == 725
    assert L.temperature_code(-40.0) == -400
    assert L.temperature_code(math.nan) == L.NOT_AVAILABLE_TEMP
    assert L.temperature_code(5000.0) == L.NOT_AVAILABLE_TEMP


def _values(enum: type[StrEnum]) -> list[str]:
    return [m.value for m in enum]


def test_ce_and_id_codes_are_the_bsp_contracts_values_in_order() -> None:
    assert list(L.CE_CODES) == _values(CeState)
    assert list(L.ID_CODES) == _values(IdState)


def test_every_evse_state_has_a_code() -> None:
    evse = {c.unit: c for c in unit_contracts()}.get("ccy-evse")
    if evse is None:
        pytest.fail("ccy.evse.contract is not installed")
    states = evse.enum_values("org.ccy.Evse1.State")
    assert set(states) <= set(L.EVSE_STATE_CODES), set(states) - set(L.EVSE_STATE_CODES)
    assert all(L.code_of(s, L.EVSE_STATE_CODES) < L.UNKNOWN_CODE for s in states)
    assert L.code_of("NoSuchState", L.EVSE_STATE_CODES) == L.UNKNOWN_CODE


def test_bit_names_follow_the_flags() -> None:
    (status,) = [f for f in L.OUTPUT_FIELDS if f.name == "status"]
    assert status.bits[0] == "SupplyReady" and status.bits[7] == "PlcEmergencyStop"
    (errors,) = [f for f in L.INPUT_FIELDS if f.name == "error_bits"]
    assert len(errors.bits) == len(L.ErrorBits)
