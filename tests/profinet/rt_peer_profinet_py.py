# SPDX-License-Identifier: Apache-2.0
"""profinet-py (PyPI "profinet-py", GPL-3.0, a controller library nobody here wrote) against
our IO device: run inside the PLC namespace by tests/profinet/test_rt_peer_profinet_py.py as
``python rt_peer_profinet_py.py IFACE STATION``. It is a separate process and only talks to
the device over the wire; ccy never imports it. Prints one line per step."""

import struct
import sys
import time

from profinet import IOCRSetup, IOSlot, ProfinetDevice


def say(line: str) -> None:
    print(line, flush=True)


def text(value: object) -> str:
    raw = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return raw.strip().strip("\x00")


def main(iface: str, station: str) -> None:
    dev = ProfinetDevice.discover(station, iface, timeout=3)
    say(f"found {dev.name} {dev.ip}")
    im0 = dev.read_im0()
    say(f"im0 {im0.vendor_id:04x} {text(im0.order_id)}")
    dev.write_im1(tag_function="profinet-py", tag_location="netns")
    im1 = dev.read_im1()
    say(f"im1 {text(im1.im_tag_function)} {text(im1.im_tag_location)}")
    setup = IOCRSetup(
        slots=[
            IOSlot(0, 1, module_ident=1, submodule_ident=1),
            IOSlot(0, 0x8000, module_ident=1, submodule_ident=0x8000),
            IOSlot(0, 0x8001, module_ident=1, submodule_ident=0x8001),
            IOSlot(1, 1, input_length=32, output_length=44, module_ident=0x10, submodule_ident=1),
        ],
        reduction_ratio=32,
        watchdog_factor=10,
        data_hold_factor=10,
    )
    cyclic = dev.start_cyclic(setup)
    say("cyclic started")
    voltage = 0.0
    for n in range(100):
        out = bytearray(44)
        struct.pack_into(">Hff", out, 0, 1, 0.0, 0.0)
        struct.pack_into(">f", out, 4, 123.0 + n)  # present voltage
        cyclic.set_output_data(1, 1, bytes(out))
        time.sleep(0.032)
        data = cyclic.get_input_data(1, 1)
        if data is not None and len(data) == 32:
            voltage = struct.unpack_from(">f", data, 8)[0]
    say(f"input target_voltage {voltage:.1f} good {cyclic.is_input_good(1, 1)}")
    stats = cyclic.stats
    say(f"stats sent {stats.frames_sent} received {stats.frames_received}")
    cyclic.stop()
    dev.close()
    say("done")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
