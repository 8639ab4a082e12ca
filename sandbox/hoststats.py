"""Facts about the machine and this process for GetStats, from the standard library."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import socket
import time
from pathlib import Path

_last_cpu = (time.monotonic(), time.process_time())


def _memory() -> tuple[int, int, int]:
    """(this process's RSS, total memory, available memory) in bytes."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    total = available = 0
    try:
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/meminfo") as meminfo:
            fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in meminfo}
        total, available = fields.get("MemTotal", 0), fields.get("MemAvailable", 0)
    except OSError:
        pass
    return rss, total, available


def process_stats() -> dict:
    global _last_cpu
    now, cpu = time.monotonic(), time.process_time()
    elapsed = max(now - _last_cpu[0], 1e-6)
    usage = 100.0 * (cpu - _last_cpu[1]) / elapsed
    _last_cpu = (now, cpu)
    rss, total, available = _memory()
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1) * 100.0
    except OSError:
        load = 0.0
    return {
        "process_id": os.getpid(),
        "cpu_usage": usage,
        "total_cpu_usage": load,
        "memory_usage": rss,
        "total_memory": total,
        "available_memory": available,
        "hostname": socket.gethostname(),
        "os_name": platform.system(),
        "os_version": platform.version(),
        "kernel_version": platform.release(),
    }


def disk_stats(data_dir: Path | None) -> dict:
    try:
        usage = shutil.disk_usage(data_dir or ".")
        return {"free_disk_space": usage.free, "total_disk_space": usage.total}
    except OSError:
        return {"free_disk_space": 0, "total_disk_space": 0}
