"""Timings need the CPU to themselves. Every timing benchmark here calls `claim_cpu()` first: it refuses to start
beside a `qa-tui train` run (whose speed it would halve, and be halved by) and waits for any other benchmark to
finish. It never pauses a training run: that is its owner's call (`kill -STOP PID` before, `kill -CONT PID` after;
a stopped run uses no CPU and does not count). `machine()` says what the timings ran on: the
same "2-core CPU" may or may not compute bf16 natively, which moves every figure by 2-3x."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

LOCK = "/tmp/qa-tui-bench.lock"
TRAINING = "qa_tui train|qa-tui train"
_held = []  # the open lock file, kept for the life of the process


def training_pids() -> list[int]:
    """Running training processes, not counting this process and its parents (a shell that names the pattern)."""
    found = subprocess.run(["pgrep", "-f", TRAINING], capture_output=True, text=True).stdout.split()
    mine, pid = set(), os.getpid()
    while pid > 1:
        mine.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return [int(found_pid) for found_pid in found if int(found_pid) not in mine and not _stopped(int(found_pid))]


def _stopped(pid: int) -> bool:
    """Whether the process is stopped (state T, after SIGSTOP) and so uses no CPU."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except (OSError, IndexError):
        return False


def claim_cpu(allow_busy: bool = False) -> None:
    """Exit with a message while a training run is going (unless `allow_busy`), then hold the benchmark lock."""
    pids = training_pids()
    if pids and not allow_busy:
        sys.exit(f"a training run is using the CPU (pid {' '.join(map(str, pids))}): timings now would be wrong. "
                 "Wait for it to end, or pass --allow-busy.")
    if not _held:
        lock = open(LOCK, "w")
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the process ends
        _held.append(lock)


def machine() -> dict:
    """The CPU (model, cores, whether it has native bf16), torch and its threads, and any GPU."""
    import torch

    from qa_tui.engine.device import cpu_description, cpu_has_bf16

    return {
        "cpu": cpu_description(),
        "cores": os.cpu_count(),
        "cpu_bf16": cpu_has_bf16(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
