"""`qa-tui eval`: read a SQuAD file, answer every question with the engine, write predictions and metrics."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from qa_tui.data.squad import ValidationReport, read_records
from qa_tui.engine import QAEngine
from qa_tui.errors import UserError
from qa_tui.evaluation import evaluate_engine


def run_evaluation(
    engine: QAEngine, data: Path, output_dir: Path, limit: int | None, as_json: bool, console: Console
) -> dict:
    report = ValidationReport(file=str(data))
    records = []
    for record in read_records(data, report=report):
        records.append(record)
        if limit and len(records) >= limit:
            break
    console.print(report.summary(), highlight=False)
    if not records:
        raise UserError(f"{data}: no valid questions to evaluate")
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"--output-dir {output_dir}: is a file")
    with Progress(
        TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("eval", total=len(records))
        result = evaluate_engine(engine, records, progress=lambda n: progress.advance(task, n))
    result.metrics["null_threshold"] = engine.null_threshold
    result.metrics.update(engine.describe())
    result.write(output_dir)
    if as_json:
        print(json.dumps(result.metrics, indent=2))
    else:
        table = Table(title=f"{data} ({len(records)} questions)", title_justify="left")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key, value in result.metrics.items():
            table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
        Console().print(table)
        console.print(f"wrote predictions and metrics to {output_dir}")
    return result.metrics
