"""Which process a worker is, precisely enough to tell after a restart that an earlier worker
on this machine is gone: host name and PID namespace, PID, and when that PID started (a PID is
reused; a restarted container's worker is PID 1 again)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessId:
    machine: str  # host name and PID namespace: PIDs compare only within one
    pid: int
    started: int  # the process's start time in clock ticks after boot (0 where unknown)

    def __str__(self) -> str:
        return f"{self.machine}|{self.pid}|{self.started}"

    @classmethod
    def parse(cls, text: str) -> ProcessId | None:
        machine, _, rest = text.rpartition("|")
        machine, _, pid = machine.rpartition("|")
        try:
            return cls(machine, int(pid), int(rest))
        except ValueError:
            return None


def this_process() -> ProcessId:
    return ProcessId(_machine(), os.getpid(), _started(os.getpid()) or 0)


def is_running(process: ProcessId) -> bool:
    """Whether `process` (on this machine) still runs: its PID exists and started when it did."""
    if process.machine != _machine():
        raise ValueError(f"{process} is not on this machine")
    started = _started(process.pid)
    if started is not None:
        return started == process.started
    try:  # no /proc: the PID alone tells
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _machine() -> str:
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()


def _started(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None if not Path("/proc/self/stat").exists() else -1
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count from its last ")"
    return int(stat.rpartition(")")[2].split()[19])
