# SPDX-License-Identifier: Apache-2.0
"""The real configuration of the device: which modules and submodules sit in which slot, and
how many IO bytes each carries. ``default_model`` is the charger: the DAP in slot 0 (module 1,
submodules 1, interface 0x8000, port 0x8001, no IO data) and "CCY Input Output" (module 0x10)
in slot 1 with one IO submodule."""

from dataclasses import dataclass

from ccy.profinet.rpc.connect_blocks import (
    ExpectedSlot,
    ExpectedSubmodule,
)

DAP_SLOT = 0
DAP_MODULE_IDENT = 0x00000001
DAP_SUBMODULE_IDENT = 0x00000001
INTERFACE_SUBSLOT = 0x8000
INTERFACE_SUBMODULE_IDENT = 0x00008000
PORT_SUBSLOT = 0x8001
PORT_SUBMODULE_IDENT = 0x00008001
IO_SLOT = 1
IO_SUBSLOT = 1
IO_MODULE_IDENT = 0x00000010
IO_SUBMODULE_IDENT = 0x00000001
IO_MODULE_NAME = "CCY Input Output"
PLACEHOLDER_IO_LEN = 40
"""IO length until the unit passes the real layout's lengths."""


@dataclass(frozen=True)
class Submodule:
    subslot: int
    ident: int
    input_length: int = 0
    """Bytes the device sends (charger → PLC)."""
    output_length: int = 0
    """Bytes the device receives (PLC → charger)."""


@dataclass(frozen=True)
class Module:
    slot: int
    ident: int
    name: str
    submodules: tuple[Submodule, ...]


@dataclass(frozen=True)
class DeviceModel:
    modules: tuple[Module, ...]

    def module(self, slot: int) -> Module | None:
        return next((m for m in self.modules if m.slot == slot), None)

    def submodule(self, slot: int, subslot: int) -> Submodule | None:
        module = self.module(slot)
        if module is None:
            return None
        return next((s for s in module.submodules if s.subslot == subslot), None)

    def expected(self) -> list[ExpectedSlot]:
        """The configuration a controller that matches us expects (the PLC simulator sends it)."""
        return [
            ExpectedSlot(
                0,
                m.slot,
                m.ident,
                tuple(
                    ExpectedSubmodule(
                        s.subslot,
                        s.ident,
                        s.input_length,
                        s.output_length,
                        ExpectedSubmodule.kind_of(s.input_length, s.output_length),
                    )
                    for s in m.submodules
                ),
            )
            for m in self.modules
        ]


def default_model(
    input_len: int = PLACEHOLDER_IO_LEN, output_len: int = PLACEHOLDER_IO_LEN
) -> DeviceModel:
    return DeviceModel(
        (
            Module(
                DAP_SLOT,
                DAP_MODULE_IDENT,
                "DAP",
                (
                    Submodule(1, DAP_SUBMODULE_IDENT),
                    Submodule(INTERFACE_SUBSLOT, INTERFACE_SUBMODULE_IDENT),
                    Submodule(PORT_SUBSLOT, PORT_SUBMODULE_IDENT),
                ),
            ),
            Module(
                IO_SLOT,
                IO_MODULE_IDENT,
                IO_MODULE_NAME,
                (Submodule(IO_SUBSLOT, IO_SUBMODULE_IDENT, input_len, output_len),),
            ),
        )
    )
