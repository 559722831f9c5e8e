# SPDX-License-Identifier: Apache-2.0
"""ccy's configuration: manifests, validation with file:line messages, typed sections.

Pure (no bus, no service code): ccy units load their config through ``load_config`` and
``ccyctl config`` checks, shows and applies files through the same functions. See
ARCHITECTURE.md "Configuration" and config/manifests/*.yaml.
"""

from ccy.runtime.config.binding import BindingError, field_name, settings_classes
from ccy.runtime.config.install import Installed, install_config
from ccy.runtime.config.loader import Config, Section, load_config, validate_bytes, validate_file
from ccy.runtime.config.manifest import Manifest, Rule, load_manifest, load_manifests
from ccy.runtime.config.problems import ConfigError, ConfigProblem, ManifestError
from ccy.runtime.config.values import KeySpec

EX_CONFIG = 78
"""sysexits.h EX_CONFIG: a unit exits with it when its configuration is invalid."""

__all__ = [
    "EX_CONFIG",
    "BindingError",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "Installed",
    "KeySpec",
    "Manifest",
    "ManifestError",
    "Rule",
    "Section",
    "field_name",
    "install_config",
    "load_config",
    "load_manifest",
    "load_manifests",
    "settings_classes",
    "validate_bytes",
    "validate_file",
]
