# SPDX-License-Identifier: Apache-2.0
"""The EV simulator's Plug & Charge pieces without a charger: the signed AuthorizationReq it
sends survives our EXI codec and holds under ccy-v2g's verifier (and fails it when signed with
another key), the contract files are checked when read, and the CLI refuses PnC options that
cannot work in one line. The session itself: tests/e2e/test_pnc_e2e.py."""

import base64
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ccy.pki.v2g_dev import CURVES, V2gDevPki, make_v2g_dev_pki
from ccy.sim.ev import cli
from ccy.sim.ev import messages as m
from ccy.sim.ev.evcc import EvError, PncContract, signed_pnc_request
from ccy.v2g.exi import Namespace, decode, encode
from ccy.v2g.pnc_signature import BadSignature, verify_authorization_req

H = m.header("3D4CBF93374ED89B", 1725456327)
CHALLENGE = base64.b64encode(bytes(range(16))).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    return make_v2g_dev_pki(tmp_path_factory.mktemp("pki") / "certs")


def _contract(pki: V2gDevPki) -> PncContract:
    return PncContract.load(pki.layout.contract_chain, pki.layout.contract_key)


def _over_the_wire(doc: m.Json) -> dict[str, object]:
    ((name, body),) = decode(Namespace.CM, encode(Namespace.CM, doc)).items()
    assert name == "AuthorizationReq"
    return dict(body)


def test_the_signed_request_holds_after_encoding_and_decoding(pki: V2gDevPki) -> None:
    contract = _contract(pki)
    assert len(contract.chain_der) == 3  # leaf, Sub-CA 2, Sub-CA 1
    body = _over_the_wire(signed_pnc_request(H, CHALLENGE, contract, contract.key))
    verify_authorization_req(body)
    mode = body["PnC_AReqAuthorizationMode"]
    assert isinstance(mode, dict) and mode["GenChallenge"] == CHALLENGE
    chain = mode["ContractCertificateChain"]
    assert base64.b64decode(chain["Certificate"]) == contract.chain_der[0]
    assert [base64.b64decode(c) for c in chain["SubCertificates"]["Certificate"]] == list(
        contract.chain_der[1:]
    )


def test_a_request_signed_with_another_key_fails_the_verifier(pki: V2gDevPki) -> None:
    contract = _contract(pki)
    other = ec.generate_private_key(ec.SECP521R1())
    body = _over_the_wire(signed_pnc_request(H, CHALLENGE, contract, other))
    with pytest.raises(BadSignature):
        verify_authorization_req(body)


def test_contract_files_are_checked_when_read(pki: V2gDevPki, tmp_path: Path) -> None:
    layout = pki.layout
    with pytest.raises(EvError, match="does not belong to the leaf"):
        PncContract.load(layout.contract_chain, layout.oem_key)
    with pytest.raises(EvError, match="No such file"):
        PncContract.load(tmp_path / "missing.pem", layout.contract_key)
    with pytest.raises(EvError, match="not PEM certificates"):
        PncContract.load(layout.contract_key, layout.contract_key)
    with pytest.raises(EvError, match="holds only the leaf"):
        PncContract.load(layout.contract_leaf, layout.contract_key)
    with pytest.raises(EvError, match="not an unencrypted PEM key"):
        PncContract.load(layout.contract_chain, layout.contract_chain)
    p256 = make_v2g_dev_pki(tmp_path / "p256", mo_curve=CURVES["p256"])
    with pytest.raises(EvError, match="secp521r1"):
        PncContract.load(p256.layout.contract_chain, p256.layout.contract_key)
    shutil.rmtree(tmp_path / "p256")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "1", "--pnc"], "--pnc needs --tls"),
        (["--port", "1", "--pnc-fault", "bad-signature"], "--pnc-fault needs --pnc"),
        (["--port", "1", "--contract-key", "k.pem"], "need --pnc"),
        (["--port", "1", "--tls", "--pnc"], "--contract-chain FILE and --contract-key FILE"),
    ],
    ids=["no-tls", "fault-without-pnc", "key-without-pnc", "no-contract"],
)
def test_the_cli_refuses_pnc_options_that_cannot_work(
    pki: V2gDevPki, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    if "--tls" in args:
        args = [*args, "--root-ca", str(pki.layout.v2g_root)]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ccy-sim ev: "), err
    assert message in err[0], err


def test_the_cli_names_a_contract_key_that_does_not_fit(
    pki: V2gDevPki, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = pki.layout
    args = ["--port", "1", "--tls", "--root-ca", str(layout.v2g_root), "--pnc"]
    args += ["--contract-chain", str(layout.contract_chain), "--contract-key", str(layout.oem_key)]
    assert cli.main(args) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"ccy-sim ev: contract key {layout.oem_key} does not belong to the leaf of "
        f"{layout.contract_chain}"
    )
