"""What the command line calls: `qa-tui` (the workbench) and `qa-tui watch DIR` (the training screen)."""

from __future__ import annotations

from pathlib import Path

from qa_tui.errors import UserError
from qa_tui.tui.state import Settings


def _run(app) -> None:
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)


def run_workbench(
    *,
    context: Path | None = None,
    model: str | None = None,
    top_k: int = 5,
    null_threshold: float | None = None,
    device: str = "auto",
    precision: str = "auto",
    runtime: str = "auto",
    annotations: Path | None = None,
) -> None:
    """Open the workbench; the model loads in the background (the app says so when there is none).

    The annotations file is read first: one that is not valid SQuAD JSON stops qa-tui before the screen opens.
    """
    from qa_tui.annotations import AnnotationStore
    from qa_tui.tui.app import QAWorkbenchApp

    if top_k < 1:
        raise UserError("--top-k must be at least 1")
    store = AnnotationStore.open(annotations)
    settings = Settings(model=model, top_k=top_k, null_threshold=null_threshold, device=device, precision=precision,
                        runtime=runtime)
    _run(QAWorkbenchApp(settings, context=context, annotations=store))


def run_watch(
    output_dir: Path,
    *,
    model: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    runtime: str = "auto",
    annotations: Path | None = None,
) -> None:
    """Open the app on the training screen, following OUTPUT_DIR/events.jsonl."""
    from qa_tui.annotations import AnnotationStore
    from qa_tui.tui.app import QAWorkbenchApp

    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"{output_dir}: is a file; give a training run's output directory")
    store = AnnotationStore.open(annotations)
    settings = Settings(model=model, device=device, precision=precision, runtime=runtime)
    _run(QAWorkbenchApp(settings, mode="training", run_dir=output_dir, annotations=store))
