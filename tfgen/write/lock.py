"""One build at a time per OUT: an exclusive `flock` on `OUT/.tfgen.lock`.

A second build waits (up to the wait `write_output` passes, `LOCK_WAIT`):
builds that happen to overlap (make -j, two CI steps, an editor hook) both
succeed, last one wins, instead of one failing for no reason of the user's; a
holder stuck longer than that is a real problem and the waiter stops with a
message saying who holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager

from ..errors import TfgenError

LOCK = ".tfgen.lock"


@contextmanager
def locked(out, wait: float):
    """Hold the exclusive lock on OUT. The lock file is removed on release; a waiter that
    then holds the lock of a removed file sees it is not the file at the path and retries."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666, dir_fd=out.fd)
        except OSError as exc:
            raise TfgenError(f"{out.path / LOCK}: cannot open the build lock ({exc.strerror or exc}); remove it if "
                             f"it is a link or a directory, make {out.path} writable, then build again") from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TfgenError(
                            f"another tfgen build has been writing {out.path} for over {wait:.0f} s "
                            f"(it holds {out.path / LOCK}); wait for it to finish, or stop it, and build again"
                        ) from None
                    time.sleep(0.05)
            try:
                current = os.stat(LOCK, dir_fd=out.fd, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(LOCK, dir_fd=out.fd)
        except OSError:
            pass
        finally:  # even on Ctrl-C: a descriptor left open would keep the lock
            os.close(fd)
