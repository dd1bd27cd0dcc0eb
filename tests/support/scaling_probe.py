"""A flow for tests/deployments/test_scaling.py: proves two workers run at once and share one global
concurrency limit. Each run waits until `expected` runs have started (so one worker alone can never pass:
each worker takes one run at a time), then holds the limit's one slot for a moment and records when."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.concurrency.sync import concurrency


@flow(name="scaling-probe")
def probe(
    marker_dir: str, name: str, expected: int = 2, limit_name: str = "nxt-scaling-probe"
) -> dict[str, Any]:
    folder = Path(marker_dir)
    (folder / f"{name}.started").write_text(str(os.getppid()))
    deadline = time.monotonic() + 120
    while len(list(folder.glob("*.started"))) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError("the other run never started: only one worker is taking runs")
        time.sleep(0.2)
    with concurrency(limit_name, occupy=1, strict=True):
        start = time.time()
        time.sleep(1.0)
        end = time.time()
    result = {"worker_pid": os.getppid(), "start": start, "end": end}
    (folder / f"{name}.json").write_text(json.dumps(result))
    return result
