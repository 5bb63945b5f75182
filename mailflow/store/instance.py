"""Who an instance of mailflow is, in a lease's holder and an outbox claim: "host:pid:random".

The host is MAILFLOW_HOST or the host name, so that an instance of this machine whose process
is gone can be told from one of another machine (or of a container with its own
MAILFLOW_HOST), whose pid means nothing here: a dead one's lease and claims are taken back at
once, another machine's only when they run out.
"""

from __future__ import annotations

import os
import secrets

from mailflow.core.lease import holder_process


def host_name() -> str:
    """This machine in a lease's holder: $MAILFLOW_HOST, or the host name. Containers that
    share one host name need MAILFLOW_HOST apart (a holder on "this machine" whose pid is gone
    is replaced at once)."""
    return os.environ.get("MAILFLOW_HOST") or os.uname().nodename


def instance_id() -> str:
    """`host:pid:random`: unique per process start, readable in `mailflow check` and logs."""
    return f"{host_name()}:{os.getpid()}:{secrets.token_hex(3)}"


def here(holder: str) -> bool:
    """Whether `holder` names another process on this machine."""
    named = holder_process(holder)
    return named is not None and named[0] == host_name() and named[1] != os.getpid()


def dead_here(holder: str) -> bool:
    """Whether `holder` (an instance_id) names another process on this machine that no longer
    runs: its lease, or its outbox claims, can be taken back at once. "This machine" is
    `host_name()`: an instance of another machine, or of a container with its own
    MAILFLOW_HOST, is never judged by a pid of this one."""
    named = holder_process(holder)
    if named is None or not here(holder):
        return False
    try:
        os.kill(named[1], 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it runs, as another user
    return False
