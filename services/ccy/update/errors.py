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


HINTS: tuple[tuple[str, str], ...] = (
    ("Compatible mismatch", "the bundle is made for another product"),
    ("unable to get local issuer certificate", "signed by a CA not in this device's keyring"),
    ("Signature size is 0", "the bundle carries no signature"),
    ("exceeds bundle size", "the file is truncated or not a RAUC bundle"),
    ("signature verification failed", "the bundle was changed after signing or is damaged"),
)
"""LastError fragments of RAUC 1.8 → what they mean for the operator (first match wins)."""


def hint(last_error: str) -> str:
    """The operator's reading of a RAUC LastError, or "" when none is known."""
    return next((text for fragment, text in HINTS if fragment in last_error), "")


class InstallFailedError(UpdateError):
    """RAUC refused or aborted the installation; the message is RAUC's LastError + a hint."""

    def __init__(self, last_error: str) -> None:
        self.last_error = last_error
        meaning = hint(last_error)
        super().__init__(
            f"installation failed: {last_error or 'RAUC gave no reason'}"
            + (f" ({meaning})" if meaning else "")
        )


class RaucCallError(UpdateError):
    """A call to RAUC returned a D-Bus error (name and text kept)."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        super().__init__(f"{name}: {text}")
