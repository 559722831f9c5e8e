# SPDX-License-Identifier: Apache-2.0
"""Named errors of an update, each with a message an operator can act on."""


class UpdateError(RuntimeError):
    """Base class: an update could not be done; the booted slot is untouched."""


class RaucNotRunningError(UpdateError):
    """de.pengutronix.rauc is not on the system bus (or the bus itself is unreachable)."""


class InstallBusyError(UpdateError):
    """RAUC is already installing a bundle; a second installation is refused."""


class BundleNotFoundError(UpdateError):
    """The bundle file does not exist or is not a regular file."""


class InstallFailedError(UpdateError):
    """RAUC refused or aborted the installation; the message is RAUC's LastError."""

    def __init__(self, last_error: str) -> None:
        self.last_error = last_error
        super().__init__(f"installation failed: {last_error or 'RAUC gave no reason'}")


class RaucCallError(UpdateError):
    """A call to RAUC returned a D-Bus error (name and text kept)."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        super().__init__(f"{name}: {text}")
