"""A process's memory as Linux shows it in ``/proc/<pid>/status``."""

from __future__ import annotations


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now ("VmRSS") and its high-water mark ("VmHWM"), in MB.
    A line the kernel does not show (a process that has exited has neither) is left out."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024
    return found
