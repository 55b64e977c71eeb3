"""Copy a trained run's model into the package as the bundled default: fp16 safetensors, tokenizer, qa_tui.json,
and a model card assembled from the run's card and the test-set metrics measured with `qa-tui eval`.

    python tools/bundle_model.py RUN_DIR [--card-extra FILE.md]

The engine loads the fp16 weights in the precision the device wants (fp32 on a CPU without bf16).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from qa_tui.engine.model_files import DEFAULT_MODEL_DIR, SETTINGS_FILE

MAX_BYTES = 50 * 1024 * 1024


def bundle(run_dir: Path, target: Path, card_extra: Path | None) -> None:
    model = AutoModelForQuestionAnswering.from_pretrained(run_dir, dtype=torch.float16)
    tokenizer = AutoTokenizer.from_pretrained(run_dir)
    staging = target.with_name(target.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    shutil.copy(run_dir / SETTINGS_FILE, staging / SETTINGS_FILE)
    card = (run_dir / "README.md").read_text(encoding="utf-8")
    if card_extra is not None:
        card += "\n" + card_extra.read_text(encoding="utf-8")
    (staging / "README.md").write_text(card, encoding="utf-8")
    size = sum(path.stat().st_size for path in staging.iterdir())
    if size > MAX_BYTES:
        raise SystemExit(f"the bundled model would be {size / 2**20:.1f} MiB, over the 50 MiB limit")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    print(f"bundled {run_dir} -> {target} ({size / 2**20:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--card-extra", type=Path, help="Markdown appended to the card (test-set metrics).")
    parser.add_argument("--target", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args()
    bundle(args.run_dir, args.target, args.card_extra)


if __name__ == "__main__":
    main()
