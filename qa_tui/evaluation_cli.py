"""`qa-tui eval`: read a SQuAD file, answer every question with the engine, write predictions and metrics; with a
second engine (`--compare`), the same for it under compare/, and how the two agree."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from qa_tui.comparison import compare_results
from qa_tui.data.squad import QARecord, ValidationReport, read_records
from qa_tui.engine import QAEngine
from qa_tui.errors import UserError
from qa_tui.evaluation import EvalResult, evaluate_engine
from qa_tui.io import write_json_atomic, write_jsonl_atomic


def run_evaluation(
    engine: QAEngine, data: Path, output_dir: Path, limit: int | None, as_json: bool, console: Console,
    compare: QAEngine | None = None,
) -> dict:
    """The metrics (printed, and returned); with `compare`, comparison.json's contents instead."""
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
    result = _evaluate(engine, records, console)
    result.write(output_dir)
    title = f"{data} ({len(records)} questions)"
    if compare is None:
        _report(as_json, result.metrics, [_metrics_table(title, {"value": result.metrics})], console,
                f"wrote predictions and metrics to {output_dir}")
        return result.metrics
    compared = _evaluate(compare, records, console)
    compared.write(output_dir / "compare")
    comparison = compare_results(records, result, compared)
    summary = {"model": result.metrics, "compare": compared.metrics, "agreement": comparison.agreement}
    write_json_atomic(output_dir / "comparison.json", summary)
    write_jsonl_atomic(output_dir / "disagreements.jsonl", comparison.disagreements)
    tables = [_metrics_table(title, {"model": result.metrics, "compare": compared.metrics}),
              _agreement_table(comparison.agreement)]
    _report(as_json, summary, tables, console,
            f"wrote predictions and metrics to {output_dir} (--compare's to {output_dir / 'compare'}), "
            f"comparison.json and disagreements.jsonl ({len(comparison.disagreements)} of {len(records)} answered "
            "differently)")
    return summary


def _evaluate(engine: QAEngine, records: list[QARecord], console: Console) -> EvalResult:
    """The engine's answers and metrics, with what it ran with (threshold, model, device, windows) in the metrics."""
    with Progress(
        TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("eval", total=len(records))
        result = evaluate_engine(engine, records, progress=lambda n: progress.advance(task, n))
    result.metrics["null_threshold"] = engine.null_threshold
    result.metrics.update(engine.describe())
    return result


def _report(as_json: bool, data: dict, tables: list[Table], console: Console, wrote: str) -> None:
    """`data` as JSON on stdout; else the tables on stdout and what was written on `console`."""
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for table in tables:
        Console().print(table)
    console.print(wrote)


def _cell(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _metrics_table(title: str, columns: dict[str, dict]) -> Table:
    """One row per metric, one column per model (their keys are the same: same questions, same engine fields)."""
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    for key in next(iter(columns.values())):
        table.add_row(key, *(_cell(metrics[key]) for metrics in columns.values()))
    return table


def _agreement_table(agreement: dict) -> Table:
    table = Table(title="agreement (right: exact match; same: equal normalised answers)", title_justify="left")
    table.add_column("agreement")
    table.add_column("value", justify="right")
    for key, value in agreement.items():
        table.add_row(key, _cell(value))
    return table
