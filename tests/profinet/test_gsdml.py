# SPDX-License-Identifier: Apache-2.0
"""The GSDML file in meta-ccy/files/gsdml: its structure, and every IO DataItem against the code.

No GSDML schema ships in any package this project can install (PI hands it out with
registration), so this test checks what a PLC engineering tool relies on, reading the
committed file with ElementTree on its own: the naming rule, the identity (VendorID/DeviceID
as DCP and I&M0 send them), the DAP in slot 0 with interface and port, the module 0x10
"CCY Input Output" in slot 1, and each DataItem's type, order and offset equal to
ccy.profinet.io_layout (values packed by the code read back at the GSDML's offsets). Last, the
file equals what ``python -m ccy.profinet.gsdml`` writes now, so a changed layout cannot ship
with a stale GSDML.
"""

import math
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ccy.profinet import io_layout
from ccy.profinet.dcp.identity import IDENTITY
from ccy.profinet.gsdml import render
from ccy.runtime.config import Config

TOP = Path(__file__).resolve().parents[2]
FOLDER = TOP / "meta-ccy" / "files" / "gsdml"
NS = {"g": "http://www.profibus.com/GSDML/2003/11/DeviceProfile"}
SIZES = {"Unsigned8": 1, "Unsigned16": 2, "Unsigned32": 4, "Integer16": 2, "Float32": 4}
"""GSDML DataType sizes in bytes (GSDML specification, DataItem DataType)."""
FORMATS = {"Unsigned8": "B", "Unsigned16": "H", "Unsigned32": "I", "Integer16": "h", "Float32": "f"}


def gsdml_file() -> Path:
    (path,) = sorted(FOLDER.glob("GSDML-*.xml"))
    return path


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.parse(gsdml_file()).getroot()


def texts(root: ET.Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for t in root.iterfind(".//g:ExternalTextList/g:PrimaryLanguage/g:Text", NS):
        assert t.get("TextId") not in found, f"TextId {t.get('TextId')} defined twice"
        found[t.get("TextId", "")] = t.get("Value", "")
    return found


def one(root: ET.Element, path: str) -> ET.Element:
    found = root.findall(path, NS)
    assert len(found) == 1, (path, len(found))
    return found[0]


def test_the_file_follows_the_naming_rule() -> None:
    assert re.fullmatch(r"GSDML-V2\.43-CCY-ChargeControlY-\d{8}\.xml", gsdml_file().name)


def test_identity_equals_dcp_and_im0(root: ET.Element) -> None:
    assert root.tag == f"{{{NS['g']}}}ISO15745Profile"
    ident = one(root, ".//g:DeviceIdentity")
    assert int(ident.get("VendorID", ""), 16) == IDENTITY.vendor_id
    assert int(ident.get("DeviceID", ""), 16) == IDENTITY.device_id
    assert one(ident, "g:VendorName").get("Value") == IDENTITY.vendor_name


def test_dap_in_slot_0_with_interface_and_port(root: ET.Element) -> None:
    dap = one(root, ".//g:DeviceAccessPointList/g:DeviceAccessPointItem")
    assert int(dap.get("ModuleIdentNumber", ""), 16) == 1
    assert dap.get("FixedInSlots") == "0"
    assert dap.get("MultipleWriteSupported") == "true"
    assert dap.get("LLDP_NoD_Supported") == "true"
    assert one(dap, "g:CertificationInfo").get("ConformanceClass") == "A"
    interface = one(dap, ".//g:InterfaceSubmoduleItem")
    assert int(interface.get("SubmoduleIdentNumber", ""), 16) == 0x8000
    assert interface.get("SubslotNumber") == "32768"
    assert interface.get("SupportedRT_Classes") == "RT_CLASS_1"
    assert one(interface, ".//g:TimingProperties").get("SendClock") == "32"
    port = one(dap, ".//g:PortSubmoduleItem")
    assert int(port.get("SubmoduleIdentNumber", ""), 16) == 0x8001
    assert port.get("SubslotNumber") == "32769"
    dap_sub = one(dap, "g:VirtualSubmoduleList/g:VirtualSubmoduleItem")
    assert int(dap_sub.get("SubmoduleIdentNumber", ""), 16) == 1
    assert list(one(dap_sub, "g:IOData")) == []  # the DAP carries no data


def test_min_device_interval_is_the_configured_minimum_cycle(root: ET.Element) -> None:
    dap = one(root, ".//g:DeviceAccessPointItem")
    minimum_s = Config.defaults().section("profinet")["min_cycle_time_ms"] / 1000
    assert math.isclose(int(dap.get("MinDeviceInterval", "")) * 31.25e-6, minimum_s)


def test_module_0x10_in_slot_1(root: ET.Element) -> None:
    text = texts(root)
    ref = one(root, ".//g:UseableModules/g:ModuleItemRef")
    module = one(root, ".//g:ModuleList/g:ModuleItem")
    assert ref.get("ModuleItemTarget") == module.get("ID")
    assert ref.get("AllowedInSlots") == "1" == str(io_layout.SLOT)
    assert int(module.get("ModuleIdentNumber", ""), 16) == io_layout.MODULE_IDENT == 0x10
    assert text[one(module, "g:ModuleInfo/g:Name").get("TextId", "")] == "CCY Input Output"
    sub = one(module, "g:VirtualSubmoduleList/g:VirtualSubmoduleItem")
    assert int(sub.get("SubmoduleIdentNumber", ""), 16) == io_layout.SUBMODULE_IDENT


def items(root: ET.Element, direction: str) -> list[ET.Element]:
    block = one(root, f".//g:ModuleItem//g:IOData/g:{direction}")
    assert block.get("Consistency") == "All items consistency"
    return block.findall("g:DataItem", NS)


@pytest.mark.parametrize(
    ("direction", "fields", "size"),
    [
        ("Input", io_layout.INPUT_FIELDS, io_layout.INPUT_SIZE),
        ("Output", io_layout.OUTPUT_FIELDS, io_layout.OUTPUT_SIZE),
    ],
)
def test_every_data_item_matches_the_layout(
    root: ET.Element, direction: str, fields: tuple[io_layout.Field, ...], size: int
) -> None:
    text = texts(root)
    gsdml = items(root, direction)
    assert len(gsdml) == len(fields)
    offset = 0
    for item, (field, code_offset) in zip(gsdml, io_layout.offsets(fields), strict=True):
        data_type = item.get("DataType", "")
        assert offset == code_offset, field.name
        assert FORMATS[data_type] == field.code, field.name
        assert text[item.get("TextId", "")].startswith(field.name)
        bits = item.findall("g:BitDataItem", NS)
        assert [int(b.get("BitOffset", "")) for b in bits] == list(range(len(field.bits)))
        assert [text[b.get("TextId", "")] for b in bits] == list(field.bits)
        assert (item.get("UseAsBits") == "true") == bool(field.bits)
        offset += SIZES[data_type]
    assert offset == size


def _read(root: ET.Element, direction: str, data: bytes) -> dict[str, object]:
    """Decode ``data`` with nothing but the GSDML: its DataItems, in order, big-endian."""
    text = texts(root)
    values: dict[str, object] = {}
    offset = 0
    for item in items(root, direction):
        data_type = item.get("DataType", "")
        name = text[item.get("TextId", "")].split(" ")[0]
        (values[name],) = struct.unpack_from(">" + FORMATS[data_type], data, offset)
        offset += SIZES[data_type]
    return values


def test_values_packed_by_the_code_read_back_at_the_gsdml_offsets(root: ET.Element) -> None:
    out = io_layout.PlcToCharger(
        status=io_layout.PlcStatus.SUPPLY_READY | io_layout.PlcStatus.OVER_CURRENT,
        isolation_status=io_layout.IsolationCode.WARNING,
        present_voltage=801.5,
        max_power=3.5e6,
        meter_energy=987_654,
        plc_heartbeat=65535,
    )
    seen = _read(root, "Output", out.pack())
    assert seen["status"] == 0b1000001
    assert seen["isolation_status"] == 2
    assert seen["present_voltage"] == 801.5 and seen["max_power"] == 3.5e6
    assert (seen["meter_energy"], seen["plc_heartbeat"]) == (987_654, 65535)
    inp = io_layout.ChargerToPlc(
        evse_state=4,
        requested_mode=io_layout.StageMode.CHARGE,
        target_current=250.25,
        temperature_3=-405,
        heartbeat=7,
    )
    seen = _read(root, "Input", inp.pack())
    assert (seen["evse_state"], seen["requested_mode"], seen["target_current"]) == (4, 3, 250.25)
    assert (seen["temperature_3"], seen["heartbeat"]) == (-405, 7)


def test_every_text_id_is_defined(root: ET.Element) -> None:
    defined = texts(root)
    used = {e.get("TextId") for e in root.iter() if e.get("TextId") and not e.tag.endswith("Text")}
    assert used <= set(defined)


def test_channel_diagnoses_are_manufacturer_specific_and_distinct(root: ET.Element) -> None:
    types = [int(i.get("ErrorType", "")) for i in root.iterfind(".//g:ChannelDiagItem", NS)]
    assert types and len(types) == len(set(types))
    assert all(0x0100 <= t <= 0x7FFF for t in types)


def test_the_file_is_what_the_code_generates() -> None:
    assert gsdml_file().read_text(encoding="utf-8") == render(), (
        "the GSDML is stale: run .venv/bin/python -m ccy.profinet.gsdml"
    )
