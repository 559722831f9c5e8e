# SPDX-License-Identifier: Apache-2.0
"""Cyclic frames and the consumer, pure: layout from the IOCR, C_SDU with IOPS/IOCS, the
checks on FrameID, length and cycle counter, the data-hold watchdog on a fake clock, and the
sender thread's cycle counter."""

import threading

from ccy.profinet.rpc.model import default_model
from ccy.profinet.rt.cyclic import CyclicConsumer, CyclicSender
from ccy.profinet.rt.frames import (
    DS_GOOD,
    IOXS_BAD,
    IOXS_GOOD,
    build_c_sdu,
    decode_payload,
    encode_payload,
    layout,
    newer,
)
from ccy.sim.plc.cm import plan_iocrs

MODEL = default_model(32, 44)
IN_CR, OUT_CR = plan_iocrs(MODEL.expected(), 0xC001, 32, 8, 3)


def out_layout():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return layout(replace(OUT_CR, frame_id=0xC010), MODEL.expected())


def test_layout_places_data_iops_and_iocs_without_overlap() -> None:
    lay = layout(IN_CR, MODEL.expected())
    io = lay.find(1, 1)
    assert io is not None and io.length == 32
    used: list[int] = []
    for obj in lay.data:
        used += range(obj.offset, obj.offset + obj.length + 1)
    used += [offset for _s, _ss, offset in lay.iocs]
    assert len(used) == len(set(used)) and max(used) < lay.data_length
    assert [(s, ss) for s, ss, _o in lay.iocs] == [(1, 1)]  # consumer status of the PLC's data


def test_c_sdu_carries_data_and_status_bytes() -> None:
    lay = layout(IN_CR, MODEL.expected())
    sdu = build_c_sdu(lay, {(1, 1): (b"\x11" * 32, IOXS_GOOD)}, {(1, 1): IOXS_GOOD})
    io = lay.find(1, 1)
    assert io is not None
    assert sdu[io.offset : io.offset + 32] == b"\x11" * 32 and sdu[io.offset + 32] == IOXS_GOOD
    dap = lay.find(0, 1)
    assert dap is not None and sdu[dap.offset] == IOXS_BAD  # not given: bad


def test_payload_round_trip_and_rejections() -> None:
    lay = out_layout()
    payload = encode_payload(0xC010, bytes(lay.data_length), 0x1234, DS_GOOD)
    frame = decode_payload(payload, lay)
    assert (frame.cycle, frame.data_status) == (0x1234, DS_GOOD)
    consumer = CyclicConsumer(lay, hold_s=0.024, now=0.0)
    assert consumer.frame(payload[:-1], 0.0) is None
    assert consumer.frame(encode_payload(0xC011, bytes(lay.data_length), 1, DS_GOOD), 0.0) is None
    assert consumer.frame(payload, 0.0) is not None
    assert consumer.frame(payload, 0.001) is None  # same counter: stale
    older = encode_payload(0xC010, bytes(lay.data_length), 0x1234 - 256, DS_GOOD)
    assert consumer.frame(older, 0.002) is None
    s = consumer.stats
    assert (s.dropped_length, s.dropped_frame_id, s.dropped_stale, s.accepted) == (1, 1, 2, 1)


def test_cycle_counter_wraps() -> None:
    assert newer(0x0010, 0xFFF0) and not newer(0xFFF0, 0x0010) and newer(5, None)


def test_data_hold_watchdog_counts_only_valid_frames() -> None:
    lay = out_layout()
    consumer = CyclicConsumer(lay, hold_s=0.024, now=0.0)
    good = encode_payload(0xC010, bytes(lay.data_length), 256, DS_GOOD)
    assert consumer.frame(good, 0.010) is not None
    assert not consumer.expired(0.033)
    invalid = encode_payload(0xC010, bytes(lay.data_length), 512, DS_GOOD & ~0x04)
    assert consumer.frame(invalid, 0.030) is not None  # accepted, but does not feed the watchdog
    assert consumer.expired(0.034) and consumer.deadline() == 0.034


def test_sender_thread_counts_cycles_in_ticks() -> None:
    sent: list[int] = []
    done = threading.Event()

    def send(frame: bytes) -> None:
        sent.append(int.from_bytes(frame[:2], "big"))
        if len(sent) >= 5:
            done.set()

    sender = CyclicSender(send, lambda cycle: cycle.to_bytes(2, "big"), 0.004, 128)
    sender.start()
    assert done.wait(5)
    sender.stop()
    assert not sender.running
    assert all(c % 128 == 0 for c in sent) and sent == sorted(sent)
    assert sender.stats.frames == len(sent)
