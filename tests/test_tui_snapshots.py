"""Snapshots (pytest-textual-snapshot) of the workbench and the training screen at 100x30.

Everything that varies is fixed: the tiny model (seeded), shown under a fixed name, on the CPU in fp32; the
latency comes from a fake clock; the training screen reads a recorded run through a relative path.
Update with `pytest tests/test_tui_snapshots.py --snapshot-update`, then look at the SVGs before committing.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from qa_tui.tui.app import QAWorkbenchApp
from qa_tui.tui.state import Settings

from pilot_helpers import settle

FIXTURES = Path(__file__).parent / "fixtures" / "tui"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_contexts" / "cord19-seed-1-chongqing-mortality.txt"
SIZE = (100, 30)


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    from qa_tui.engine import QAEngine

    engine = QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32")
    engine.model_name = "tiny-qa-model"  # not the temporary directory's name
    return engine


def make_app(engine, **kwargs) -> QAWorkbenchApp:
    counter = itertools.count()
    return QAWorkbenchApp(
        Settings(model="tiny-qa-model", device="cpu", precision="fp32"),
        engine_factory=lambda _settings: engine,
        clock=lambda: next(counter) * 0.042,
        **kwargs,
    )


def test_workbench_after_a_question(snap_compare, engine):
    async def ask(pilot):
        await settle(pilot)
        question = pilot.app.screen.query_one("#question")
        question.value = "What is the mortality for ARDS?"
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.screen.query_one("#candidates").focus()  # no blinking cursor in the picture
        await pilot.press("down")
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(engine, context=SAMPLE), terminal_size=SIZE, run_before=ask)


def test_training_screen_of_a_finished_run(snap_compare, engine, tmp_path, monkeypatch):
    run_dir = tmp_path / "runs" / "tiny-demo"
    run_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "run-finished" / "events.jsonl", run_dir / "events.jsonl")
    monkeypatch.chdir(tmp_path)

    async def wait(pilot):
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    app = make_app(engine, mode="training", run_dir=Path("runs/tiny-demo"))
    assert snap_compare(app, terminal_size=SIZE, run_before=wait)


def test_training_screen_of_a_failed_run(snap_compare, engine, tmp_path, monkeypatch):
    run_dir = tmp_path / "runs" / "tiny-bad-dev"
    run_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "run-failed" / "events.jsonl", run_dir / "events.jsonl")
    monkeypatch.chdir(tmp_path)

    async def wait(pilot):
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    app = make_app(engine, mode="training", run_dir=Path("runs/tiny-bad-dev"))
    assert snap_compare(app, terminal_size=SIZE, run_before=wait)


def test_compare_view_after_a_question(snap_compare, engine, tmp_path_factory):
    from conftest import build_tiny_qa_model
    from qa_tui.engine import QAEngine

    other = QAEngine.load(str(build_tiny_qa_model(tmp_path_factory.mktemp("tiny-b"), seed=1)), device="cpu",
                          precision="fp32")
    other.model_name = "tiny-qa-model-b"
    engines = {"tiny-qa-model": engine, "tiny-qa-model-b": other}
    counter = itertools.count()
    app = QAWorkbenchApp(Settings(model="tiny-qa-model", device="cpu", precision="fp32"),
                         engine_factory=lambda settings: engines[settings.model], context=SAMPLE,
                         clock=lambda: next(counter) * 0.042)

    async def compare_and_ask(pilot):
        await settle(pilot)
        pilot.app.compare_with("tiny-qa-model-b")
        await settle(pilot)
        question = pilot.app.screen.query_one("#question")
        question.value = "What is the mortality for ARDS?"
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=compare_and_ask)
