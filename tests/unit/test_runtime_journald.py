# SPDX-License-Identifier: Apache-2.0
"""Records reach journald through systemd-python with SYSLOG_IDENTIFIER and CCY_* fields.

A child process in its own mount namespace (tmpfs over /run, so no real journald is touched)
listens on /run/systemd/journal/socket, logs through ccy.runtime.journal, and prints what
arrived, parsed from the native journal protocol (``KEY=value`` lines; binary-safe values as
``KEY\\n<u64 length><data>\\n``).
"""

import json
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.root

CHILD = r"""
import json, socket, struct
from pathlib import Path
path = Path("/run/systemd/journal/socket")
path.parent.mkdir(parents=True)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(str(path))
sock.settimeout(5)
from ccy.runtime.journal import fields, setup_logging
log = setup_logging("ccy-bsp")
extra = fields(event="estop", reason="EmergencyInput")
log.warning("Emergency Stop: %s", "EmergencyInput", extra=extra)
data = sock.recv(65536)
out, i = {}, 0
while i < len(data):
    nl = data.index(b"\n", i)
    line = data[i:nl]
    if b"=" in line:
        k, v = line.split(b"=", 1)
        i = nl + 1
    else:
        (n,) = struct.unpack("<Q", data[nl + 1 : nl + 9])
        k, v = line, data[nl + 9 : nl + 9 + n]
        i = nl + 9 + n + 1
    out[k.decode()] = v.decode()
print(json.dumps(out))
"""


def test_journald_gets_identifier_priority_and_structured_fields() -> None:
    unshare = shutil.which("unshare")
    assert unshare, "util-linux unshare is installed by setup"
    script = f"mount -t tmpfs tmpfs /run && exec {sys.executable} -c '{CHILD}'"
    r = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    assert record["MESSAGE"] == "Emergency Stop: EmergencyInput"
    assert record["SYSLOG_IDENTIFIER"] == "ccy-bsp"
    assert record["PRIORITY"] == "4"  # warning
    assert record["CCY_EVENT"] == "estop" and record["CCY_REASON"] == "EmergencyInput"
    assert record["CODE_FILE"] == "<string>" and record["CODE_LINE"].isdigit()
