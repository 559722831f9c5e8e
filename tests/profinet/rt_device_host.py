# SPDX-License-Identifier: Apache-2.0
"""The IO device (ccy.profinet.rt.iodevice.IoDevice) alone on an interface, for the netns
tests and the benchmark: ``python tests/profinet/rt_device_host.py IFACE``.

Prints one line per event on stdout (``ready MAC``, ``state Connected …``, ``output valid
VOLTAGE``, ``output invalid``, ``stats …``) and takes commands on stdin: ``target V A MODE``
(the charger's setpoints in its input data), ``diag appear|clear TYPE``, ``stats``, ``last``
(the PLC's present voltage), ``lateness`` (with ``--record``: count, p50/p99/max of the send
lateness and of the interval error in ms, skipped cycles), ``abort``.
``--loop-priority=N`` puts the event-loop thread under SCHED_FIFO N (below the provider
thread's 10), as ``CPUSchedulingPolicy=fifo`` would for the unit. DCP runs beside it as
``python -m ccy.profinet.dcp`` (pn-dcp's runner), as in the unit.
"""

import asyncio
import itertools
import logging
import sys
import time

from ccy.profinet.dcp.identity import IDENTITY
from ccy.profinet.ethernet import ETH_P_PROFINET, RawSocket, mac_to_str
from ccy.profinet.io_layout import INPUT_SIZE, OUTPUT_SIZE, ChargerToPlc, PlcToCharger, StageMode
from ccy.profinet.rpc.model import default_model
from ccy.profinet.rpc.records import im_from_identity
from ccy.profinet.rt.cyclic import try_realtime
from ccy.profinet.rt.iodevice import IoDevice


def say(line: str) -> None:
    print(line, flush=True)


class Listener:
    def __init__(self) -> None:
        self.valid: bool | None = None
        self.last: PlcToCharger | None = None

    def on_ar_state(self, state: str, arep: int, reason: str) -> None:
        say(f"state {state} {arep} {time.monotonic():.6f} {reason}")

    def on_output(self, data: bytes, valid: bool) -> None:
        out = PlcToCharger.unpack(data)
        self.last = out
        if valid != self.valid or valid:
            if valid != self.valid:
                say(f"output {'valid' if valid else 'invalid'} {out.present_voltage:.1f}")
            self.valid = valid


def percentiles(values: list[float]) -> str:
    ordered = sorted(abs(v) for v in values)
    if not ordered:
        return "0 0 0"
    pick = [ordered[int(q * (len(ordered) - 1))] for q in (0.5, 0.99)]
    return " ".join(f"{v * 1000:.3f}" for v in (*pick, ordered[-1]))


async def main(iface: str, record: bool, loop_priority: int | None) -> None:
    if loop_priority is not None and not try_realtime(loop_priority):
        say("warning: SCHED_FIFO refused for the event loop thread")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    sock = RawSocket(iface, ETH_P_PROFINET)
    listener = Listener()
    dev = IoDevice(
        sock,
        default_model(INPUT_SIZE, OUTPUT_SIZE),
        im_from_identity(IDENTITY, "SN-NETNS-1"),
        listener,
        logging.getLogger("ccy-profinet"),
        station_name=lambda: "ccy-charger",
        record_lateness=record,
    )
    loop = asyncio.get_running_loop()
    sock.attach(loop, dev.on_frame)
    await dev.start()
    dev.set_input_data(ChargerToPlc().pack())
    say(f"ready {mac_to_str(sock.mac)}")
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        if line[0] == "target":
            inputs = ChargerToPlc(
                requested_mode=StageMode[line[3]],
                target_voltage=float(line[1]),
                target_current=float(line[2]),
            )
            dev.set_input_data(inputs.pack())
        elif line[0] == "diag":
            dev.send_diagnosis(line[1] == "appear", int(line[2], 0), text="test")
        elif line[0] == "last":
            last = listener.last
            say(f"last {last.present_voltage:.1f} {last.plc_heartbeat}" if last else "last none")
        elif line[0] == "lateness":
            sender = dev.sender_stats()
            late = list(sender.lateness_s) if sender else []
            intervals = [b - a for a, b in itertools.pairwise(late)]
            skipped = sender.skipped if sender else 0
            say(f"lateness {len(late)} {percentiles(late)} {percentiles(intervals)} {skipped}")
        elif line[0] == "abort":
            dev.abort()
        elif line[0] == "stats":
            s = dev.stats
            say(
                f"stats sent {s.frames_sent} received {s.frames_received} accepted"
                f" {s.frames_accepted} length {s.dropped_length} stale {s.dropped_stale}"
                f" dht {s.dht_expired} alarms {s.alarms_sent} acked {s.alarms_acked}"
            )
    await dev.stop()
    sock.close()


if __name__ == "__main__":
    prio = next(
        (int(a.split("=")[1]) for a in sys.argv[2:] if a.startswith("--loop-priority=")), None
    )
    asyncio.run(main(sys.argv[1], "--record" in sys.argv[2:], prio))
