"""What every benchmark prints beside its figures: how busy the machine was."""

from __future__ import annotations

import asyncio
import os
import signal


def load_average() -> str:
    """The 1, 5 and 15 minutes' load averages, as `uptime` prints them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def memory_mb(field: str = "VmHWM", pid: int | str = "self") -> float:
    """A process's memory from /proc/<pid>/status in MB: VmHWM its peak resident set so far,
    VmRSS the present one."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} in /proc/{pid}/status")


async def stop_process(process: asyncio.subprocess.Process, wait: float = 30.0) -> None:
    """SIGTERM, as a service manager stops the bot; killed if it has not ended within `wait`."""
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout=wait)
    except TimeoutError:
        process.kill()
        await process.wait()
