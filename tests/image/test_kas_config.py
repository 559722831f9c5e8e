# SPDX-License-Identifier: Apache-2.0
"""kas.yml: valid against kas's own schema, every repository pinned, release consistent.

Validation uses ``kas.includehandler.ConfigFile.load`` (design/image.md): the same JSON schema
check ``kas build`` does, without cloning anything.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from staging import LAYER, TOP

includehandler = pytest.importorskip(
    "kas.includehandler", reason="kas is not installed in this environment (pip install kas)"
)
KAS = TOP / "kas.yml"
RELEASE = "wrynose"
RELEASE_BRANCHES = {"openembedded-core", "meta-openembedded", "meta-rauc"}


def load() -> dict[str, Any]:
    config: dict[str, Any] = includehandler.ConfigFile.load(str(KAS)).config
    return config


def test_kas_yml_passes_kas_schema() -> None:
    config = load()
    assert config["machine"] == "qemuarm64"
    assert config["target"] == ["ccy-image", "ccy-bundle"]
    assert (LAYER / "conf" / "distro" / f"{config['distro']}.conf").is_file()


def test_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    """The validation above is real: an unknown top-level key is refused."""
    broken = tmp_path / "broken.yml"
    data = yaml.safe_load(KAS.read_text())
    data["machines"] = data.pop("machine")
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(includehandler.LoadConfigException):
        includehandler.ConfigFile.load(str(broken))


def test_every_remote_repository_is_pinned_to_a_commit() -> None:
    repos = load()["repos"]
    remote = {name: repo for name, repo in repos.items() if repo.get("url")}
    assert set(remote) == {"bitbake", *RELEASE_BRANCHES}
    for name, repo in remote.items():
        assert isinstance(repo["commit"], str), f"{name}: quote the commit"
        assert re.fullmatch(r"[0-9a-f]{40}", repo["commit"]), f"{name}: full commit id"
        assert isinstance(repo["branch"], str), f"{name}: quote the branch"
    for name in RELEASE_BRANCHES:
        assert remote[name]["branch"] == RELEASE


def test_this_repository_provides_meta_ccy() -> None:
    ccy = load()["repos"]["ccy"]
    assert "url" not in ccy and "path" not in ccy, "the layer comes from this checkout"
    assert list(ccy["layers"]) == ["meta-ccy"]
    compat = (LAYER / "conf" / "layer.conf").read_text()
    assert f'LAYERSERIES_COMPAT_ccy = "{RELEASE}"' in compat
