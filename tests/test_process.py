"""A worker tells a dead worker of its machine from a live one, a reused PID included."""

import subprocess
import sys

import pytest

from monitor.process import ProcessId, is_running, this_process


def test_this_process_is_running_and_reads_back():
    me = this_process()
    assert is_running(me)
    assert ProcessId.parse(str(me)) == me
    assert ProcessId.parse("not a process") is None


def test_an_exited_process_is_not_running():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    assert not is_running(ProcessId(this_process().machine, child.pid, 0))


def test_a_reused_pid_is_another_process():
    me = this_process()
    assert not is_running(ProcessId(me.machine, me.pid, me.started + 1))


def test_another_machine_cannot_be_asked():
    with pytest.raises(ValueError, match="not on this machine"):
        is_running(ProcessId("elsewhere", 1, 0))
