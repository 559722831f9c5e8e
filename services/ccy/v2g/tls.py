# SPDX-License-Identifier: Apache-2.0
"""The TLS 1.3 server context of ccy-v2g, with the stdlib ``ssl`` module.

ISO 15118-20 (design/v2g.md "Transport"): TLS 1.3 only, cipher suites TLS_AES_256_GCM_SHA384
and TLS_CHACHA20_POLY1305_SHA256, key exchange on secp521r1 and also secp256r1 (Josev's EVCC
offers only P-256), the SECC leaf on secp521r1 under CPO Sub-CA 2/1 → V2G root, optionally
mutual TLS against the vehicle's OEM root.

Python 3.11's ``ssl`` cannot set either list for TLS 1.3: ``set_ciphers`` only governs TLS
1.2 and below, ``set_ecdh_curve`` sets exactly one group, and ``set_ciphersuites`` does not
exist. Two ways were tried on this machine (OpenSSL 3.0):

* an OpenSSL configuration (``OPENSSL_CONF`` naming a ``system_default`` section with
  ``Ciphersuites`` and ``Groups``): works, but only when set in the environment before the
  process starts, and then for every context of the process, clients included; a unit
  cannot check from inside that it took effect except by handshakes;
* the OpenSSL calls themselves on this context, through ``ctypes`` on the very ``libssl``
  the ``_ssl`` module is linked to: ``SSL_CTX_set_ciphersuites`` and
  ``SSL_CTX_set1_groups_list`` (a ``SSL_CTX_ctrl`` macro, command 92). The ``SSL_CTX *`` is
  the first field after the object header of ``_ssl._SSLContext`` (CPython's
  ``PySSLContext``). That is an implementation detail, so it is checked before use: the
  options OpenSSL reports for the pointer must equal ``ctx.options``, and after the call
  ``ctx.get_ciphers()`` (which asks OpenSSL) must list exactly the configured TLS 1.3 suites.

ccy uses the second: it is per context, checked at start, and fails closed with
:class:`TlsSetupError` (no TLS offered) rather than running with other suites. When a Python
gains ``SSLContext.set_ciphersuites`` it is used instead. The tests prove both lists with
real handshakes (a client offering only TLS_AES_128_GCM_SHA256, or only X25519, is refused).
"""

import ctypes
import ssl
from collections.abc import Sequence
from pathlib import Path

from ccy.v2g.cert_store import Leaf

SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
"""The TLS 1.3 cipher suites ISO 15118-20 allows, in preference order."""
GROUPS = ("P-521", "P-256")
"""Key-exchange groups: secp521r1 first, secp256r1 for EVs (Josev) that offer only it."""
ALLOWED_GROUPS = frozenset(GROUPS)
ALLOWED_VERSIONS = frozenset({"1.3"})

_SSL_CTRL_SET_GROUPS_LIST = 92


class TlsError(Exception):
    """Base of TLS configuration problems."""


class InsecureTlsSetting(TlsError):
    """A configured TLS setting ISO 15118-20 does not allow; refused, not weakened."""


class TlsSetupError(TlsError):
    """OpenSSL refused a setting, or the certificate/key could not be loaded."""


def check_settings(
    *, ciphersuites: Sequence[str], groups: Sequence[str], min_version: str = "1.3"
) -> None:
    """Refuse what ISO 15118-20 forbids, naming the setting and the allowed values."""
    problems = []
    if min_version not in ALLOWED_VERSIONS:
        problems.append(f"tls version {min_version} is not allowed (ISO 15118-20: TLS 1.3 only)")
    for suite in ciphersuites:
        if suite not in SUITES:
            problems.append(
                f"tls_ciphersuites: {suite} is not allowed (ISO 15118-20: {', '.join(SUITES)})"
            )
    for group in groups:
        if group not in ALLOWED_GROUPS:
            problems.append(f"tls_groups: {group} is not allowed ({', '.join(GROUPS)})")
    if not ciphersuites:
        problems.append("tls_ciphersuites: empty")
    if not groups:
        problems.append("tls_groups: empty")
    if problems:
        raise InsecureTlsSetting("; ".join(problems))


def _libssl() -> ctypes.CDLL:
    import _ssl

    lib = ctypes.CDLL(_ssl.__file__)  # dlsym through it finds the libssl _ssl is linked to
    lib.SSL_CTX_get_options.restype = ctypes.c_uint64
    lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
    lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.SSL_CTX_ctrl.restype = ctypes.c_long
    lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    return lib


def _ssl_ctx_pointer(ctx: ssl.SSLContext, lib: ctypes.CDLL) -> int:
    pointer = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not pointer or lib.SSL_CTX_get_options(pointer) != int(ctx.options):
        raise TlsSetupError(
            "cannot reach OpenSSL's SSL_CTX of this Python's ssl module to set the TLS 1.3 "
            "cipher suites and groups; TLS is not offered"
        )
    return int(pointer)


def restrict(
    ctx: ssl.SSLContext, *, ciphersuites: Sequence[str] = SUITES, groups: Sequence[str] = GROUPS
) -> None:
    """Set the TLS 1.3 cipher suites and key-exchange groups of ``ctx``, then check them."""
    suites = ":".join(ciphersuites).encode()
    lib = _libssl()
    pointer = _ssl_ctx_pointer(ctx, lib)
    setter = getattr(ctx, "set_ciphersuites", None)
    if setter is not None:  # pragma: no cover  (a future Python)
        setter(suites.decode())
    elif lib.SSL_CTX_set_ciphersuites(pointer, suites) != 1:
        raise TlsSetupError(f"OpenSSL refused the cipher suites {suites.decode()}")
    wanted = ":".join(groups).encode()
    if lib.SSL_CTX_ctrl(pointer, _SSL_CTRL_SET_GROUPS_LIST, 0, ctypes.c_char_p(wanted)) != 1:
        raise TlsSetupError(f"OpenSSL refused the groups {wanted.decode()}")
    active = [c["name"] for c in ctx.get_ciphers() if c.get("protocol") == "TLSv1.3"]
    if sorted(active) != sorted(ciphersuites):
        raise TlsSetupError(f"TLS 1.3 cipher suites are {active}, not {list(ciphersuites)}")


def _tls13_only(ctx: ssl.SSLContext) -> None:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
    ctx.options |= ssl.OP_NO_RENEGOTIATION


def server_context(
    leaf: Leaf,
    *,
    ciphersuites: Sequence[str] = SUITES,
    groups: Sequence[str] = GROUPS,
    client_ca_file: Path | None = None,
) -> ssl.SSLContext:
    """The SECC's server context; ``client_ca_file`` (the OEM root) turns on mutual TLS."""
    check_settings(ciphersuites=ciphersuites, groups=groups)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _tls13_only(ctx)
    # No TLS 1.3 session tickets at all: with OP_NO_TICKET OpenSSL's tickets are stateful,
    # so every handshake put num_tickets (2) sessions into the context's server cache (up to
    # 20,480 entries, each expiring only after 2 h), ~3 KiB of C heap per vehicle session
    # that no vehicle ever resumes. Every connection is a full handshake.
    ctx.num_tickets = 0
    try:
        ctx.load_cert_chain(leaf.chain_file, leaf.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"{leaf.chain_file}, {leaf.key_file}: cannot load: {exc}") from None
    if client_ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=client_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsSetupError(f"{client_ca_file}: cannot load the OEM root: {exc}") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    restrict(ctx, ciphersuites=ciphersuites, groups=groups)
    return ctx


def client_context(
    root_file: Path,
    *,
    chain_file: Path | None = None,
    key_file: Path | None = None,
    ciphersuites: Sequence[str] = SUITES,
    groups: Sequence[str] = GROUPS,
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
    max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
) -> ssl.SSLContext:
    """An EVCC's context (the EV simulator and the tests): trusts ``root_file`` (the V2G
    root); ``chain_file``/``key_file`` (the OEM leaf chain) for mutual TLS. No host name check:
    the SECC is reached by link-local address, its CN is the EVSEID."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.minimum_version = min_version
    ctx.maximum_version = max_version
    ctx.load_verify_locations(cafile=root_file)
    if chain_file is not None:
        ctx.load_cert_chain(chain_file, key_file)
    if max_version >= ssl.TLSVersion.TLSv1_3:
        restrict(ctx, ciphersuites=ciphersuites, groups=groups)
    return ctx
