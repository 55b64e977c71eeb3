"""`qa-tui ask`: answer one question over a context, or a JSON Lines file of questions, headless."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO

from rich.console import Console
from rich.table import Table

from qa_tui.engine import Answer, QAEngine, precision_label
from qa_tui.errors import UserError
from qa_tui.inputs import check_readable_file, decode_text


def answer_record(answer: Answer, engine: QAEngine, **extra) -> dict:
    """The JSON form of an answer that `ask --json` prints (docs/formats.md)."""
    record = {**extra, **answer.to_dict()}
    record.update(model=engine.model_name, device=str(engine.device))
    return record


def render_answer(answer: Answer, engine: QAEngine, console: Console) -> None:
    table = Table(title=f"Q: {answer.question}", title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("answer")
    table.add_column("score", justify="right")
    table.add_column("prob", justify="right")
    table.add_column("chars", justify="right")
    for rank, span in enumerate(answer.answers, start=1):
        chosen = rank == 1 and not answer.is_impossible
        table.add_row(
            str(rank),
            f"[bold green]{span.text}[/]" if chosen else span.text,
            f"{span.score:.2f}",
            f"{span.probability:.3f}",
            f"{span.start}-{span.end}",
        )
    no_answer = answer.no_answer
    table.add_row(
        "-",
        "[bold yellow]<no answer>[/]" if answer.is_impossible else "[dim]<no answer>[/]",
        f"{no_answer.score:.2f}",
        f"{no_answer.probability:.3f}",
        "",
    )
    console.print(table)
    verdict = "no answer in this context" if answer.is_impossible else f"answer: {answer.best_text}"
    setup = precision_label(engine.runtime, engine.precision)
    console.print(
        f"{verdict}\n[dim]model {engine.model_name} on {engine.device} ({setup}), "
        f"null threshold {engine.null_threshold:g}[/]"
    )


@dataclass
class BatchLine:
    number: int
    id: object
    question: str | None = None
    context: str | None = None
    error: str | None = None


def parse_questions_file(path: str, encoding: str) -> list[BatchLine]:
    """Every non-blank line of a JSONL questions file, bad ones carrying their error (named by line number)."""
    checked = check_readable_file(path)
    text = decode_text(checked.read_bytes(), str(checked), encoding)
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            lines.append(BatchLine(number, None, error=f"not JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            lines.append(BatchLine(number, None, error="not a JSON object"))
            continue
        line = BatchLine(number, record.get("id"))
        missing = [key for key in ("question", "context") if not isinstance(record.get(key), str)]
        if missing:
            line.error = f"lacks {' and '.join(repr(key) for key in missing)} (a string)"
        elif not record["question"].strip():
            line.error = "empty question"
        elif not record["context"].strip():
            line.error = "empty context"
        else:
            line.question, line.context = record["question"], record["context"]
        lines.append(line)
    if not lines:
        raise UserError(f"{checked}: no questions in it")
    return lines


def answer_questions_file(
    engine: QAEngine, path: str, top_k: int, encoding: str, out: IO[str], err_console: Console
) -> int:
    """Answer every good line, print one JSON line per input line in order; return the number of bad lines."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    lines = parse_questions_file(path, encoding)
    good = [line for line in lines if line.error is None]
    for line in lines:
        if line.error is not None:
            err_console.print(f"{path}:{line.number}: {line.error}", style="red", highlight=False, soft_wrap=True)
    with Progress(
        TextColumn("answering"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,  # piped or redirected stderr: no bar, no stray blank line
    ) as progress:
        task = progress.add_task("answering", total=len(good))
        answers = engine.answer_batch(
            [(line.question, line.context) for line in good],
            top_k=top_k,
            progress=lambda n: progress.advance(task, n),
        )
    answer_of_line = {line.number: answer for line, answer in zip(good, answers)}
    for line in lines:
        if line.error is not None:
            record = {"id": line.id, "line": line.number, "error": line.error}
        else:
            record = answer_record(answer_of_line[line.number], engine, id=line.id)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return len(lines) - len(good)


def stdout_json(record: dict) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
