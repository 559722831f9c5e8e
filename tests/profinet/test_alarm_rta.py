# SPDX-License-Identifier: Apache-2.0
"""Alarms over RTA, pure: a device endpoint and a controller endpoint talk through lists of
payloads; DATA/ACK with sequence numbers from 0xFFFF, the AlarmAck, retransmission, the
give-up, repeats, and the ERR PDU of an abort."""

import struct

from ccy.profinet.rpc.status import AbortReason, PnioStatus, abort
from ccy.profinet.rt import alarm


def pair() -> tuple[alarm.RtaEndpoint, alarm.RtaEndpoint]:
    device = alarm.RtaEndpoint(1, 7, False, 0.1, 3)
    plc = alarm.RtaEndpoint(7, 1, False, 0.1, 3)
    return device, plc


def deliver(to: alarm.RtaEndpoint, payloads: list[bytes], now: float) -> alarm.Delivered:
    total = alarm.Delivered()
    for p in payloads:
        _fid, pdu = alarm.decode_rta(p)
        got = to.receive(pdu, now)
        total.send += got.send
        total.received += got.received
        total.transport_acked += got.transport_acked
        total.error = total.error or got.error
    return total


def note(appears: bool = True) -> alarm.Notification:
    return alarm.diagnosis(appears, 1, 1, 0x10, 1, 0x0100)


def test_diagnosis_alarm_is_acked_twice_transport_and_application() -> None:
    device, plc = pair()
    first = device.send(note(), 0.0)
    (data,) = first.send
    fid, pdu = alarm.decode_rta(data)
    assert fid == alarm.FRAME_ID_LOW and pdu.pdu_type == alarm.PDU_DATA
    assert (pdu.send_seq, pdu.ack_seq) == (0, 0xFFFE)
    at_plc = deliver(plc, [data], 0.01)
    (received,) = at_plc.received
    assert isinstance(received, alarm.Notification) and received.alarm_type == 1
    assert struct.unpack(">HHHH", received.user_data) == (0x8000, 0x8000, 1 << 11, 0x0100)
    (ack,) = at_plc.send
    assert alarm.decode_rta(ack)[1].pdu_type == alarm.PDU_ACK
    at_device = deliver(device, [ack], 0.02)
    assert at_device.transport_acked and device.in_flight is None
    app_ack = plc.send(alarm.AlarmAck(1, 1, 1, received.specifier, PnioStatus()), 0.03)
    at_device = deliver(device, app_ack.send, 0.04)
    (got_ack,) = at_device.received
    assert isinstance(got_ack, alarm.AlarmAck) and got_ack.status.ok
    assert len(at_device.send) == 1  # the device ACKs the controller's DATA


def test_sequence_numbers_advance_and_one_alarm_is_in_flight() -> None:
    device, plc = pair()
    (first,) = device.send(note(True), 0.0).send
    assert device.send(note(False), 0.0).send == []  # window 1: queued
    acked = deliver(device, deliver(plc, [first], 0.0).send, 0.0)
    (second,) = acked.send
    pdu = alarm.decode_rta(second)[1]
    assert pdu.send_seq == 1
    specifier = alarm.decode_alarm_block(pdu.var_part).specifier  # type: ignore[union-attr]
    assert specifier & 0x7FF == 1  # the alarm's own sequence number


def test_unacknowledged_data_is_retransmitted_then_given_up() -> None:
    device, _plc = pair()
    (data,) = device.send(note(), 0.0).send
    assert device.tick(0.05).send == []
    assert device.tick(0.11).send == [data]
    assert device.tick(0.22).send == [data]
    assert device.tick(0.33).send == [data]
    given_up = device.tick(0.44)
    assert given_up.failed and device.closed


def test_a_repeated_data_is_acked_again_but_delivered_once() -> None:
    device, plc = pair()
    (data,) = device.send(note(), 0.0).send
    first = deliver(plc, [data], 0.0)
    again = deliver(plc, [data], 0.2)
    assert len(first.received) == 1 and again.received == [] and len(again.send) == 1


def test_abort_sends_err_with_the_pnio_status() -> None:
    device, plc = pair()
    err = device.error_pdu(abort(AbortReason.DHT_EXPIRED))
    got = deliver(plc, [err], 0.0)
    assert got.error is not None and got.error.encode() == bytes.fromhex("cf81fd05")


def test_malformed_rta_is_a_named_error() -> None:
    for junk in (b"", b"\xfe\x01" + bytes(5), b"\x12\x34" + bytes(20)):
        try:
            alarm.decode_rta(junk)
        except alarm.AlarmError:
            continue
        raise AssertionError(f"accepted {junk!r}")
