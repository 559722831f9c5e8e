# SPDX-License-Identifier: Apache-2.0
"""Run a Python function as another user, in a forked child of the test process.

File-permission tests (a database an operator may not open, session logs only group ccy
reads) need a real other user. Starting a new interpreter as that user fails wherever the
interpreter itself lies in a folder only root may enter (a Python under /root, as on this
project's CI machines), and that failure would say nothing about ccy. A fork needs no new
interpreter: the child drops to the user (groups cleared, then gid, then uid: it cannot get
root back), runs the function with its standard output and error going to files, and exits
with the function's status.
"""

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

NOBODY = 65534


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def call_as(uid: int, gid: int, func: Callable[[], int | None]) -> Outcome:
    """``func()`` as ``uid``:``gid`` with no supplementary groups; its return value (None: 0)
    or SystemExit code is the returncode, anything it raises is 1 with the traceback on
    stderr. Needs root."""
    if os.geteuid() != 0:
        raise PermissionError("call_as needs root to change the user")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the test process
            code = 1
            try:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
                sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
                try:
                    result = func()
                    code = 0 if result is None else int(result)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                    if isinstance(exc.code, str):
                        print(exc.code, file=sys.stderr)
            except BaseException:  # report whatever happened, then leave
                import traceback

                with contextlib.suppress(Exception):
                    traceback.print_exc()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return Outcome(
            os.waitstatus_to_exitcode(status),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )
