# SPDX-License-Identifier: Apache-2.0
"""``ccyctl exi``: single decode/encode, batch mode with ERROR lines, a whole capture in one
process."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ccy.ctl.cmd_exi import run_batch
from ccy.ctl.main import main

CABLE_CHECK = "802c041ea65fc99ba76c4d8c7bfe1b6062"
CABLE_CHECK_JSON = (
    '{"DC_CableCheckReq":{"Header":{"SessionID":"3D4CBF93374ED89B","TimeStamp":1725456327}}}'
)
TRANSCRIPT = (
    Path(__file__).resolve().parents[1]
    / "data/vectors/iso15118-20/josev_evcc_vs_josev_secc_dc20_transcript.txt"
)
JOSEV_NS = {"SAP": "sap", "ISO_V20_COMMON_MSG": "cm", "ISO_V20_DC": "dc", "ISO_V20_AC": "ac"}


def test_decode_and_encode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exi", "decode", "--ns", "dc", CABLE_CHECK]) == 0
    assert capsys.readouterr().out.strip() == CABLE_CHECK_JSON
    assert main(["exi", "encode", "--ns", "DC", CABLE_CHECK_JSON]) == 0
    assert capsys.readouterr().out.strip() == CABLE_CHECK


def test_single_failure_names_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exi", "decode", "--ns", "dc", CABLE_CHECK[:4]]) == 65
    err = capsys.readouterr().err
    assert err.startswith("ccyctl: exi decode --ns dc: TruncatedStream: ")
    assert err.endswith(" (give one whole EXI document, as hex, of the namespace named by --ns)\n")
    assert main(["exi", "encode", "--ns", "dc", "{"]) == 65
    assert capsys.readouterr().err.startswith("ccyctl: exi encode --ns dc: BadInput: ")
    assert main(["exi", "decode", CABLE_CHECK]) == 64
    assert capsys.readouterr().err == (
        "ccyctl: exi decode: no input "
        "(give --ns NS and the input, or --batch: see 'ccyctl exi decode --help')\n"
    )


def test_a_wrong_namespace_names_the_one_that_decodes(capsys: pytest.CaptureFixture[str]) -> None:
    # A DC message read with the AC grammars fails; it decodes with --ns dc.
    assert main(["exi", "decode", "--ns", "ac", CABLE_CHECK]) == 65
    err = capsys.readouterr().err
    assert err.startswith("ccyctl: exi decode --ns ac: SecondLevelEvent: ")
    assert err.endswith(" (the namespace may be wrong: it decodes with --ns dc)\n")
    # A stream that no namespace decodes gets no such hint.
    assert main(["exi", "decode", "--ns", "ac", CABLE_CHECK[:4]]) == 65
    assert "namespace may be wrong" not in capsys.readouterr().err


def test_batch_lines() -> None:
    lines = io.StringIO(
        f"dc {CABLE_CHECK}\n\nsap {CABLE_CHECK}\nwpt 80\ndc 8\ndc {CABLE_CHECK}00\n"
    )
    out = io.StringIO()
    assert run_batch("decode", lines, out) == (5, 4)
    result = out.getvalue().splitlines()
    assert result[0] == CABLE_CHECK_JSON
    assert result[1].startswith("ERROR SecondLevelEvent: ")
    assert result[1].endswith(" (the namespace may be wrong: it decodes with --ns dc)")
    assert result[2].startswith("ERROR BadInput: unknown EXI namespace")
    assert result[3].startswith("ERROR BadInput: input is not hexadecimal")
    assert result[4].startswith("ERROR TrailingData: ")
    assert len(result) == 5
    out = io.StringIO()
    assert run_batch("encode", io.StringIO(f"dc {CABLE_CHECK_JSON}\n"), out) == (1, 0)
    assert out.getvalue() == CABLE_CHECK + "\n"


def test_batch_with_a_failed_line_exits_non_zero_and_says_how_many() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ccy.ctl.main", "exi", "decode", "--batch"],
        input=f"dc {CABLE_CHECK}\ndc 8\ndc {CABLE_CHECK}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 65
    assert done.stdout.splitlines()[1].startswith("ERROR BadInput: ")
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr == (
        "ccyctl: exi decode: 1 of 3 lines failed (see the ERROR lines in their place on stdout)\n"
    )


def test_whole_transcript_in_one_process() -> None:
    lines = TRANSCRIPT.read_text().splitlines()
    requests, expected = [], []
    for number, line in enumerate(lines):
        if line.startswith(("EV->", "<-SE")):
            _direction, ns, hex_text = line.split()
            requests.append(f"{JOSEV_NS[ns.split('.', 1)[1]]} {hex_text}")
            expected.append(json.loads(lines[number + 1]))
    done = subprocess.run(
        [sys.executable, "-m", "ccy.ctl.main", "exi", "decode", "--batch"],
        input="\n".join(requests) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert [json.loads(line) for line in done.stdout.splitlines()] == expected
    encoded = subprocess.run(
        [sys.executable, "-m", "ccy.ctl.main", "exi", "encode", "--batch"],
        input="".join(
            f"{r.split()[0]} {json.dumps(e)}\n" for r, e in zip(requests, expected, strict=True)
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert encoded.stdout.split() == [r.split()[1] for r in requests]
