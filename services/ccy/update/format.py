# SPDX-License-Identifier: Apache-2.0
"""Text for ``ccyctl update``: a progress bar line and the status report (pure functions)."""

from collections.abc import Sequence

from ccy.update.model import InstallerState, Progress, SlotStatus

BAR_WIDTH = 30


def progress_bar(progress: Progress, width: int = BAR_WIDTH) -> str:
    """``[##########--------------------]  33% Verifying signature``."""
    if width < 1:
        raise ValueError("width must be at least 1")
    filled = progress.percentage * width // 100
    bar = "#" * filled + "-" * (width - filled)
    message = progress.message.strip()
    return f"[{bar}] {progress.percentage:3d}%" + (f" {message}" if message else "")


def _slot_line(slot: SlotStatus, booted: str, primary: str) -> str:
    marks = []
    if slot.name == booted:
        marks.append("booted")
    if slot.name == primary:
        marks.append("primary")
    flags = f" ({', '.join(marks)})" if marks else ""
    boot = slot.bootname or "-"
    version = slot.bundle_version or "-"
    status = slot.boot_status or "-"
    installed = slot.installed or "-"
    return (
        f"  {slot.name:<10} bootname {boot:<3} state {slot.state or '-':<8} "
        f"boot status {status:<4} bundle {version:<12} installed {installed}{flags}"
    )


def format_status(state: InstallerState, slots: Sequence[SlotStatus], primary: str) -> str:
    """The report of ``ccyctl update status``.

    ``primary`` is GetPrimary()'s slot name (the one the bootloader tries next); the booted
    slot is the one whose ``state`` is ``booted`` (BootSlot holds its bootname).
    """
    booted = next((s.name for s in slots if s.state == "booted"), "")
    lines = [
        f"Compatible: {state.compatible or '-'}",
        f"Variant: {state.variant or '-'}",
        f"Booted slot: {booted or '-'} (bootname {state.boot_slot or '-'})",
        f"Primary slot: {primary or '-'}",
        f"Operation: {state.operation or '-'}",
    ]
    if state.last_error:
        lines.append(f"Last error: {state.last_error}")
    lines.append(f"Slots: {len(slots)}")
    lines += [_slot_line(slot, booted, primary) for slot in slots]
    return "\n".join(lines)
