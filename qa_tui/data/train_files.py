"""Training file specs, `PATH` or `PATH:WEIGHT`: parsed here, without the heavy imports of the features module,
so that the workbench's training form can check them."""

from __future__ import annotations

import math
from pathlib import Path

from qa_tui.errors import UserError


def parse_train_file(spec: str) -> tuple[str, float]:
    """`PATH` or `PATH:WEIGHT` -> (path, weight). A weight repeats the file's questions: 2 reads each twice, 0.5
    keeps a random half, 1.5 reads each once and half of them twice. A spec that names an existing file is that
    file, colon and all."""
    path, colon, weight = spec.rpartition(":")
    if not colon or Path(spec).exists():
        return spec, 1.0
    try:
        value = float(weight)
    except ValueError:
        return spec, 1.0
    if not (value > 0 and math.isfinite(value)):
        raise UserError(f"--train-file {spec}: the weight after ':' must be a number above 0")
    return path, value
