# SPDX-License-Identifier: Apache-2.0
"""The GSDML file of the device, generated from the code that defines it.

``python -m ccy.profinet.gsdml [FILE]`` writes meta-ccy/files/gsdml/<FILE_NAME> (or FILE):
identity (VendorID, DeviceID, names, order number) from ccy.profinet.dcp.identity, the DAP in
slot 0 (module 1; interface 0x8000 RT_CLASS_1 with SendClock 32; port 0x8001), the module
"CCY Input Output" (0x10) in slot 1 whose IOData DataItems are io_layout's fields in wire
order, and one ChannelDiagItem per diagnosis ChannelErrorType (ccy.profinet.diagnosis).
tests/profinet/test_gsdml.py parses the committed file on its own and checks its structure
and every DataItem against io_layout, and that it equals what this module writes now.

Naming rule (profinet.md "GSDML"): GSDML-V2.43-<vendor>-<device>-YYYYMMDD.xml. The date is
the layout's release date; a changed layout gets a new date (and file name).
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ccy.profinet import diagnosis
from ccy.profinet.dcp.identity import IDENTITY
from ccy.profinet.io_layout import (
    INPUT_FIELDS,
    MODULE_IDENT,
    MODULE_NAME,
    OUTPUT_FIELDS,
    SUBMODULE_IDENT,
    Field,
)

GSDML_VERSION = "V2.43"
RELEASE_DATE = "20261202"
FILE_NAME = f"GSDML-{GSDML_VERSION}-CCY-ChargeControlY-{RELEASE_DATE}.xml"
NAMESPACE = "http://www.profibus.com/GSDML/2003/11/DeviceProfile"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MIN_DEVICE_INTERVAL = 256
"""8 ms in 31.25 µs units: the shortest cycle the device offers (profinet.min_cycle_time_ms)."""
SEND_CLOCK = "32"
REDUCTION_RATIOS = "1 2 4 8 16 32 64 128 256 512"
TOP = Path(__file__).resolve().parents[3]
DEFAULT_PATH = TOP / "meta-ccy" / "files" / "gsdml" / FILE_NAME


def _text_id(direction: str, f: Field, bit: str = "") -> str:
    return f"IDT_{direction}_{f.name}" + (f"_{bit}" if bit else "")


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, attrs)


class _Texts:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, text_id: str, value: str) -> str:
        self.items.append((text_id, value))
        return text_id


def _io(parent: ET.Element, tag: str, direction: str, fields: tuple[Field, ...], t: _Texts) -> None:
    block = _sub(parent, tag, Consistency="All items consistency")
    for f in fields:
        text = f"{f.name} ({f.unit}): {f.text}" if f.unit not in ("-", "bits", "code") else f.name
        attrs = {"DataType": f.gsdml_type, "TextId": t.add(_text_id(direction, f), text)}
        if f.bits:
            attrs["UseAsBits"] = "true"
        item = _sub(block, "DataItem", **attrs)
        for offset, bit in enumerate(f.bits):
            _sub(
                item,
                "BitDataItem",
                BitOffset=str(offset),
                TextId=t.add(_text_id(direction, f, bit), bit),
            )


def _module_info(parent: ET.Element, name: str, info: str, t: _Texts, key: str) -> None:
    mi = _sub(parent, "ModuleInfo")
    _sub(mi, "Name", TextId=t.add(f"IDT_NAME_{key}", name))
    _sub(mi, "InfoText", TextId=t.add(f"IDT_INFO_{key}", info))
    _sub(mi, "VendorName", Value=IDENTITY.vendor_name)
    _sub(mi, "OrderNumber", Value=IDENTITY.order_id)
    _sub(mi, "HardwareRelease", Value=str(IDENTITY.hw_revision))


def build() -> ET.Element:
    t = _Texts()
    schema = f"{NAMESPACE} ..\\xsd\\GSDML-DeviceProfile-{GSDML_VERSION}.xsd"
    root = ET.Element(
        "ISO15745Profile",
        {"xmlns": NAMESPACE, "xmlns:xsi": XSI, "xsi:schemaLocation": schema},
    )
    header = _sub(root, "ProfileHeader")
    for tag, value in (
        ("ProfileIdentification", "PROFINET Device Profile"),
        ("ProfileRevision", "1.00"),
        ("ProfileName", "Device Profile for PROFINET Devices"),
        ("ProfileSource", "PROFIBUS Nutzerorganisation e. V. (PNO)"),
        ("ProfileClassID", "Device"),
    ):
        _sub(header, tag).text = value
    ref = _sub(header, "ISO15745Reference")
    _sub(ref, "ISO15745Part").text = "4"
    _sub(ref, "ISO15745Edition").text = "1"
    _sub(ref, "ProfileTechnology").text = "GSDML"

    body = _sub(root, "ProfileBody")
    ident = _sub(
        body,
        "DeviceIdentity",
        VendorID=f"0x{IDENTITY.vendor_id:04X}",
        DeviceID=f"0x{IDENTITY.device_id:04X}",
    )
    _sub(
        ident,
        "InfoText",
        TextId=t.add(
            "IDT_INFO_Device",
            "Charge Control Y MCS DC charge controller (ccy): Profinet IO device toward the PLC "
            "that drives the power electronics and the insulation monitor. VendorID 0xFFFE is a "
            "placeholder, not assigned by PI.",
        ),
    )
    _sub(ident, "VendorName", Value=IDENTITY.vendor_name)
    function = _sub(body, "DeviceFunction")
    _sub(function, "Family", MainFamily="General", ProductFamily=IDENTITY.product_family)

    app = _sub(body, "ApplicationProcess")
    daps = _sub(app, "DeviceAccessPointList")
    dap = _sub(
        daps,
        "DeviceAccessPointItem",
        ID="IDD_1",
        PNIO_Version=GSDML_VERSION,
        PhysicalSlots="0..1",
        ModuleIdentNumber=f"0x{IDENTITY.dap_module_ident:08X}",
        MinDeviceInterval=str(MIN_DEVICE_INTERVAL),
        DNS_CompatibleName=IDENTITY.default_station_name,
        FixedInSlots="0",
        ObjectUUID_LocalIndex=str(IDENTITY.device_instance[1]),
        DeviceAccessSupported="false",
        MultipleWriteSupported="true",
        CheckDeviceID_Allowed="true",
        NameOfStationNotTransferable="false",
        LLDP_NoD_Supported="true",
        ResetToFactoryModes="2",
    )
    _module_info(dap, "CCY DAP", "Device access point of the Charge Control Y", t, "DAP")
    _sub(dap, "CertificationInfo", ConformanceClass="A", ApplicationClass="", NetloadClass="I")
    _sub(dap, "IOConfigData", MaxInputLength="244", MaxOutputLength="244")
    usable = _sub(dap, "UseableModules")
    _sub(
        usable, "ModuleItemRef", ModuleItemTarget="IDM_CCY_IO", AllowedInSlots="1", FixedInSlots="1"
    )
    vsubs = _sub(dap, "VirtualSubmoduleList")
    dap_sub = _sub(
        vsubs,
        "VirtualSubmoduleItem",
        ID="IDS_DAP",
        SubmoduleIdentNumber="0x00000001",
        Writeable_IM_Records="1 2 3 4",
        MayIssueProcessAlarm="false",
    )
    _sub(dap_sub, "IOData")
    _module_info(dap_sub, "CCY DAP", "Device access point of the Charge Control Y", t, "DAP_SUB")
    system = _sub(dap, "SystemDefinedSubmoduleList")
    interface = _sub(
        system,
        "InterfaceSubmoduleItem",
        ID="IDS_I",
        SubslotNumber="32768",
        SubmoduleIdentNumber="0x00008000",
        SupportedRT_Classes="RT_CLASS_1",
        TextId=t.add("IDT_NAME_IS", "Interface"),
        SupportedProtocols="LLDP",
        PTP_BoundarySupported="true",
        DCP_BoundarySupported="true",
    )
    # Legacy startup only: the device refuses ARProperties "StartupMode advanced"
    # (0xDB81 0109, ccy.profinet.rpc), so an engineering tool must not choose it.
    relations = _sub(interface, "ApplicationRelations", StartupMode="Legacy")
    _sub(relations, "TimingProperties", SendClock=SEND_CLOCK, ReductionRatio=REDUCTION_RATIOS)
    port = _sub(
        system,
        "PortSubmoduleItem",
        ID="IDS_P1",
        SubslotNumber="32769",
        SubmoduleIdentNumber="0x00008001",
        TextId=t.add("IDT_NAME_PS1", "Port 1"),
        MaxPortRxDelay="350",
        MaxPortTxDelay="160",
    )
    mau = _sub(port, "MAUTypeList")
    _sub(mau, "MAUTypeItem", Value="16")  # 100BASE-TX full duplex

    modules = _sub(app, "ModuleList")
    module = _sub(modules, "ModuleItem", ID="IDM_CCY_IO", ModuleIdentNumber=f"0x{MODULE_IDENT:08X}")
    info = "Charging process both ways: PLC output = supply, IMD, meter; input = charger state"
    _module_info(module, MODULE_NAME, info, t, "MOD_IO")
    msubs = _sub(module, "VirtualSubmoduleList")
    sub = _sub(
        msubs,
        "VirtualSubmoduleItem",
        ID="IDS_CCY_IO",
        SubmoduleIdentNumber=f"0x{SUBMODULE_IDENT:08X}",
        MayIssueProcessAlarm="false",
    )
    iodata = _sub(sub, "IOData")
    _io(iodata, "Input", "IN", INPUT_FIELDS, t)
    _io(iodata, "Output", "OUT", OUTPUT_FIELDS, t)
    _module_info(sub, MODULE_NAME, info, t, "SUB_IO")

    diags = _sub(app, "ChannelDiagList")
    for unit in diagnosis.SOURCES:
        names = [*diagnosis.catalogue(unit), ""]
        for name in names:
            code = (
                diagnosis.channel_error_type(unit, name)
                if name
                else (diagnosis.TYPE_BASE[unit] + diagnosis.UNLISTED)
            )
            what = name or "an error type this GSDML does not list"
            item = _sub(diags, "ChannelDiagItem", ErrorType=str(code))
            _sub(item, "Name", TextId=t.add(f"IDT_DIAG_{code}", f"{unit}: {what}"))

    texts = _sub(app, "ExternalTextList")
    primary = _sub(texts, "PrimaryLanguage")
    for text_id, value in t.items:
        _sub(primary, "Text", TextId=text_id, Value=value)
    return root


def render() -> str:
    root = build()
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- SPDX-License-Identifier: Apache-2.0 -->\n"
        "<!-- Generated by `python -m ccy.profinet.gsdml` from ccy.profinet.io_layout, "
        "ccy.profinet.dcp.identity and ccy.profinet.diagnosis: do not edit by hand. -->\n"
        f"{body}\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
