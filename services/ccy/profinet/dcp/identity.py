# SPDX-License-Identifier: Apache-2.0
"""Who the device says it is: one set of values for DCP, LLDP, I&M0, RealIdentification and the
GSDML, so the PLC sees the same VendorID/DeviceID everywhere (profinet.md, "GSDML": they must
be equal). pn-unit's GSDML test and the I&M0 record read :data:`IDENTITY`; nothing else may
spell these numbers.

The VendorID is **not assigned by PROFIBUS & PROFINET International**: ccy has none. 0xFFFE
is a placeholder at the top of the 16-bit range, chosen to be unlikely to collide with a
member's ID on a test bench; a product must replace it (and the DeviceID) with the
manufacturer's assigned numbers before it meets a real PLC project.
"""

from dataclasses import dataclass

from ccy.runtime.version import package_version


def _sw_revision() -> tuple[str, int, int, int]:
    """I&M0 SoftwareRevision from the package version: 'V' + major, minor, bug-fix."""
    parts = [int(p) if p.isdigit() else 0 for p in package_version().split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return ("V", parts[0] & 0xFF, parts[1] & 0xFF, parts[2] & 0xFF)


@dataclass(frozen=True)
class DeviceIdentity:
    vendor_id: int = 0xFFFE
    """DCP DeviceID block (2/3) VendorID, I&M0 VendorID, GSDML VendorID (placeholder, above)."""
    device_id: int = 0x0001
    """DCP DeviceID block (2/3) DeviceID, GSDML DeviceID."""
    vendor_name: str = "CCY"
    """GSDML VendorName."""
    device_vendor_value: str = "CCY"
    """DCP DeviceVendorValue (option 2/1): the device type string a PLC shows after a scan."""
    product_family: str = "Charge Control Y"
    """GSDML ProductFamily / DeviceFunction text."""
    default_station_name: str = "ccy-charger"
    """The name this device type suggests: GSDML DNS_CompatibleName and the default of
    ``python -m ccy.profinet.dcp``. The unit's own start-up name is the config key
    ``profinet.station_name`` ("" = unnamed until the PLC names it). A factory reset over DCP
    clears the name to "" as IEC 61158-6-10 requires; it does not return to either."""
    device_role: int = 0x01
    """DCP DeviceRoleValue: bit 0 = IO device."""
    device_instance: tuple[int, int] = (0, 1)
    """DCP DeviceInstance (2/7) high, low; GSDML ObjectUUID_LocalIndex = 1."""
    order_id: str = "CCY-MCS-1"
    """I&M0 OrderID (padded with spaces to 20 characters on the wire)."""
    hw_revision: int = 1
    """I&M0 HardwareRevision."""
    sw_revision: tuple[str, int, int, int] = _sw_revision()
    """I&M0 SoftwareRevision: prefix 'V' (released), functional enhancement, bug fix,
    internal change; from the ccy package version."""
    revision_counter: int = 0
    profile_id: int = 0x0000
    """I&M0 ProfileID: 0 = non-profile device."""
    profile_specific_type: int = 0x0000
    im_version: tuple[int, int] = (1, 1)
    """I&M0 IM_Version major, minor (profinet.md: 1.1)."""
    im_supported: int = 0x001E
    """I&M0 IM_Supported bit field: I&M1..I&M4 are supported (bits 1-4)."""
    dap_module_ident: int = 0x00000001
    """Slot 0 DAP module ident number (profinet.md)."""
    io_module_ident: int = 0x00000010
    """Slot 1 "CCY Input Output" module ident number (profinet.md)."""
    io_module_name: str = "CCY Input Output"

    @property
    def device_id_bytes(self) -> bytes:
        """VendorID (2) + DeviceID (2), big endian, as in DCP 2/3 and RealIdentification."""
        return self.vendor_id.to_bytes(2, "big") + self.device_id.to_bytes(2, "big")


IDENTITY = DeviceIdentity()
"""The one identity of ccy-profinet."""
