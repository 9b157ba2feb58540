"""A `monitor run` process under test: its log read as it is written, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path


class Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, config: Path, environ: dict[str, str], *args: str) -> Worker:
        """`monitor run -c CONFIG`, or the script `args` (which runs the worker itself)."""
        command = args or ("-m", "monitor", "run", "-c", str(config))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            env=environ,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def until(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        """Wait (bounded) until `condition` holds, with the log in the message if it never does."""
        for _ in range(int(timeout * 20)):
            if condition():
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"never happened; the worker's log:\n{self.log}")

    async def logged(self, text: str, timeout: float = 60) -> None:
        await self.until(lambda: text in self.log, timeout)

    async def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then its exit code (it must exit within `timeout`)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.wait_for(self._reader, timeout)
        return code
