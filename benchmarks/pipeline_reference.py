"""The reference for bench_answer.py: transformers 4.57's QuestionAnsweringPipeline on the same inputs.

bench_answer.py starts this with the Python of a separate environment (transformers 5 removed the pipeline):
    python -m venv .bench-venv && .bench-venv/bin/pip install torch==2.13.0 'transformers==4.57.*'

    pipeline_reference.py MODEL_DIR INPUTS.jsonl [--threads N]

It loads the pipeline once, prints `{"ready": ...}`, then serves requests, one JSON object a line on stdin,
`{"mode": "one" | "batch32", "start": i, "end": j}`, timing the pipeline on inputs [i, j) and printing
`{"seconds": ..., "best": [best answer text, "" for no answer, ...]}` a line on stdout. So the benchmark can
interleave the pipeline with the engine, chunk by chunk, and a change of load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("inputs")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import torch
    import transformers
    from transformers import pipeline

    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    pairs = [json.loads(line) for line in open(args.inputs, encoding="utf-8")]
    questions = [pair["question"] for pair in pairs]
    contexts = [pair["context"] for pair in pairs]
    # fp32 explicitly: the bundled model is stored in fp16, and transformers 4.57 would then compute in fp16 on the
    # CPU, about 4x slower than in fp32 (benchmarks/README.md, whole-process figures).
    qa = pipeline("question-answering", model=args.model_dir, tokenizer=args.model_dir, device=-1,
                  dtype=torch.float32)
    # The engine's settings, so that both do the same work: the pipeline's own max_answer_len is 15, and by default
    # it widens spans to whole words (the engine, like SQuAD's reference code, keeps the tokens' own offsets).
    settings = dict(
        top_k=5,
        handle_impossible_answer=True,
        max_answer_len=30,
        max_seq_len=384,
        doc_stride=128,
        max_question_len=64,
        align_to_words=False,
    )
    print(json.dumps({"ready": True, "transformers": transformers.__version__, "threads": torch.get_num_threads()}))
    sys.stdout.flush()

    for line in sys.stdin:
        request = json.loads(line)
        mode, first, last = request["mode"], request["start"], request["end"]
        start = time.perf_counter()
        if mode == "one":
            answers = [qa(question=q, context=c, **settings) for q, c in zip(questions[first:last], contexts[first:last])]
        elif mode.startswith("batch"):
            answers = qa(question=questions[first:last], context=contexts[first:last], batch_size=int(mode[5:]), **settings)
            if last - first == 1:
                answers = [answers]
        else:
            raise SystemExit(f"unknown mode {mode}")
        seconds = time.perf_counter() - start
        best = [(answer[0] if isinstance(answer, list) else answer)["answer"] for answer in answers]
        print(json.dumps({"seconds": seconds, "best": best}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
