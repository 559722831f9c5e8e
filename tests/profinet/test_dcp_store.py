# SPDX-License-Identifier: Apache-2.0
"""The permanent DCP settings file and the start-up state taken from it: a permanent Set
survives a restart, a temporary one does not (and forgets the permanent value it replaced),
a corrupt file is named and the configured values hold."""

import logging
import os
from pathlib import Path

import pytest

from ccy.profinet.dcp.codec import IpParameter
from ccy.profinet.dcp.driver import initial_state
from ccy.profinet.dcp.store import DcpStore, StoreCorrupt, Stored, StoreError

LOG = logging.getLogger("test")
CONFIG_IP = IpParameter.from_strings("192.0.2.2", "255.255.255.0")
PLC_IP = IpParameter.from_strings("169.254.12.53", "255.255.0.0", "169.254.12.53")


def test_absent_file_is_empty_and_config_holds(tmp_path: Path) -> None:
    store = DcpStore(tmp_path)
    assert store.load() == Stored()
    state = initial_state(store, "ccy-charger", CONFIG_IP, LOG)
    assert (state.station_name, state.ip) == ("ccy-charger", CONFIG_IP)


def test_permanent_values_win_over_config_after_restart(tmp_path: Path) -> None:
    DcpStore(tmp_path).save_name("line-7")
    DcpStore(tmp_path).save_ip(PLC_IP)
    assert DcpStore(tmp_path).load() == Stored("line-7", PLC_IP)
    state = initial_state(DcpStore(tmp_path), "ccy-charger", CONFIG_IP, LOG)
    assert (state.station_name, state.ip) == ("line-7", PLC_IP)


def test_temporary_set_forgets_the_permanent_value(tmp_path: Path) -> None:
    store = DcpStore(tmp_path)
    store.save_name("line-7")
    store.save_ip(PLC_IP)
    store.save_name(None)  # what the driver does for a temporary name
    assert store.load() == Stored(None, PLC_IP)
    store.save_ip(None)
    assert store.load() == Stored()
    assert initial_state(store, "cfg", CONFIG_IP, LOG).station_name == "cfg"


def test_factory_reset_values_are_kept(tmp_path: Path) -> None:
    store = DcpStore(tmp_path)
    store.save_name("")
    store.save_ip(IpParameter.none())
    state = initial_state(store, "ccy-charger", CONFIG_IP, LOG)
    assert state.station_name == "" and not state.ip.is_set


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"version": 2}',
        '{"version": 1, "station_name": "Bad_Name"}',
        '{"version": 1, "station_name": "192.168.0.1"}',
        '{"version": 1, "ip": {"address": "10.0.0.1"}}',
        '{"version": 1, "ip": {"address": "10.0.0.1", "netmask": "255.0.255.0", '
        '"gateway": "0.0.0.0"}}',
        '{"version": 1, "ip": {"address": "x", "netmask": "255.0.0.0", "gateway": "0.0.0.0"}}',
    ],
)
def test_corrupt_file_is_named_and_config_holds(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "dcp.json").write_text(text)
    with pytest.raises(StoreCorrupt, match=r"dcp\.json is not valid DCP settings"):
        DcpStore(tmp_path).load()
    with caplog.at_level(logging.ERROR):
        state = initial_state(DcpStore(tmp_path), "ccy-charger", CONFIG_IP, LOG)
    assert state.station_name == "ccy-charger" and state.ip == CONFIG_IP
    assert "using the configured station name and IP" in caplog.text
    DcpStore(tmp_path).save_name("fixed")  # a later Set replaces the corrupt file
    assert DcpStore(tmp_path).load() == Stored("fixed", None)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_unwritable_folder_is_a_named_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="cannot write"):
            DcpStore(tmp_path).save_name("x")
    finally:
        tmp_path.chmod(0o700)


def test_state_folder_missing_is_a_named_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match=r"cannot (read|write) .*dcp\.json: Not a directory"):
        DcpStore(blocker / "sub").save_name("x")
    assert not list(tmp_path.glob("**/*.tmp"))
