"""The workbench TUI, driven with Textual's Pilot: asking, highlighting, files, settings, the training screen.

The app gets a ready engine through `engine_factory` (the tiny random model: its answers are nonsense, but real
spans with real offsets), and the training screen reads recorded `events.jsonl` files (tests/fixtures/tui/).
"""

from __future__ import annotations

import itertools
import json
import shutil
import sys
from pathlib import Path

import pytest

from qa_tui.errors import UserError
from qa_tui.tui.app import QAWorkbenchApp
from qa_tui.tui.state import Settings

from conftest import async_test
from pilot_helpers import ask, notices, parts, settle

FIXTURES = Path(__file__).parent / "fixtures" / "tui"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_contexts" / "cord19-seed-1-chongqing-mortality.txt"
QUESTION = "What is the mortality for ARDS?"


def make_app(engine=None, *, threshold: float | None = None, top_k: int = 5, **kwargs) -> QAWorkbenchApp:
    settings = Settings(model="tiny", top_k=top_k, null_threshold=threshold, device="cpu", precision="fp32")
    counter = itertools.count()
    return QAWorkbenchApp(
        settings,
        engine_factory=(lambda _settings: engine) if engine is not None else kwargs.pop("engine_factory"),
        clock=lambda: next(counter) * 0.025,
        poll_interval=kwargs.pop("poll_interval", 0.05),
        **kwargs,
    )


# --- the workbench -----------------------------------------------------------------------------------------------


@async_test
async def test_ask_over_a_sample_lists_candidates_and_highlights_the_top_one(engine):
    app = make_app(engine, threshold=1e9, context=SAMPLE)  # a threshold no null score beats: a span wins
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane, table, status = parts(app)
        assert pane.text == SAMPLE.read_text(encoding="utf-8")
        assert app.focused is app.screen.query_one("#question")
        await ask(pilot, QUESTION)
        answer = table.answer
        assert answer is not None and answer.question == QUESTION and not answer.is_impossible
        assert table.row_count == len(answer.answers) + 1 == 6  # top-k spans + the no-answer row
        assert table.cursor_row == 0
        top = answer.answers[0]
        assert pane.highlighted_range == (top.start, top.end)
        assert pane.selected_text == top.text == pane.text[top.start : top.end]
        assert "25 ms" in plain(status)  # the injected clock: latency is fixed
        assert "▶1" in str(table.get_row_at(0)[0])


@async_test
async def test_choosing_another_candidate_moves_the_highlight(engine):
    app = make_app(engine, threshold=1e9, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        pane, table, _ = parts(app)
        spans = table.answer.answers
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        assert pane.highlighted_range == (spans[1].start, spans[1].end)
        await pilot.press("down", "down")
        await pilot.pause()
        assert pane.highlighted_range == (spans[3].start, spans[3].end)
        await pilot.press("down", "down")  # the no-answer row, last: nothing to highlight
        await pilot.pause()
        assert table.span_at(table.cursor_row) is None
        assert pane.highlighted_range is None


@async_test
async def test_the_no_answer_row_comes_first_and_is_marked_when_it_wins(engine):
    app = make_app(engine, threshold=-1e9, context=SAMPLE)  # every null score beats the best span
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        pane, table, _ = parts(app)
        assert table.answer.is_impossible
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[0] == "▶∅" and "wins" in first[1]
        assert "no answer" in table.border_title
        assert pane.highlighted_range is None


@async_test
async def test_a_new_question_supersedes_a_stale_answer(engine):
    from qa_tui.tui.messages import AnswerReady, AskRequest

    app = make_app(engine, threshold=1e9, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        _, table, _ = parts(app)
        shown = table.answer
        stale = AskRequest(serial=0, question="old", context="old context", top_k=5)
        app.screen.post_message(AnswerReady(stale, object(), 1.0))
        await pilot.pause()
        assert table.answer is shown


@async_test
async def test_editing_the_context_marks_the_answer_stale(engine):
    app = make_app(engine, threshold=1e9, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        pane, table, _ = parts(app)
        pane.insert("Inserted first. ", (0, 0))
        await pilot.pause()
        assert table.stale and "ask again" in table.border_subtitle
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not table.stale
        top = table.answer.answers[0]
        assert pane.selected_text == top.text


@pytest.mark.parametrize("problem", ["binary", "missing", "directory", "not-utf8"])
@async_test
async def test_a_file_that_cannot_be_read_becomes_a_notification(engine, tmp_path, problem):
    path = tmp_path / "context.txt"
    if problem == "binary":
        path.write_bytes(b"\x00\x01\x02 not text")
    elif problem == "directory":
        path.mkdir()
    elif problem == "not-utf8":
        path.write_bytes("caf\xe9".encode("latin-1"))
    app = make_app(engine, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        path_input = app.screen.query_one("#path-input")
        path_input.value = str(path)
        await pilot.press("enter")
        await pilot.pause()
        errors = [note for note in notices(app) if note[0] == "error"]
        assert errors and str(path) in errors[-1][2]
        pane, _, _ = parts(app)
        assert pane.text == SAMPLE.read_text(encoding="utf-8")  # the old context stays
        assert app.is_running


@async_test
async def test_samples_are_one_key_away(engine):
    app = make_app(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause()
        shortcuts = app.screen.query_one("#shortcuts")
        assert app.focused is shortcuts and shortcuts.option_count >= 8
        await pilot.press("enter")
        await pilot.pause()
        pane, _, _ = parts(app)
        assert pane.text.strip() and pane.source.endswith(".txt")
        first = pane.source
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert pane.source != first


@async_test
async def test_question_history_walks_up_and_down(engine):
    app = make_app(engine, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "first question?")
        await ask(pilot, "second question?")
        question = app.screen.query_one("#question")
        question.focus()  # the answer moved the focus to the candidates
        question.value = "a draft"
        await pilot.press("up")
        assert question.value == "second question?"
        await pilot.press("up", "up")
        assert question.value == "first question?"
        await pilot.press("down")
        assert question.value == "second question?"
        await pilot.press("down")
        assert question.value == "a draft"


@async_test
async def test_settings_from_the_palette_commands_ask_again(engine):
    from qa_tui.tui.commands import typed_commands

    app = make_app(engine, threshold=1e9, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        _, table, status = parts(app)
        assert table.row_count == 6
        [(name, _, run)] = list(typed_commands(app, "top-k 2"))
        assert name == "Settings: top-k 2"
        run()
        await settle(pilot)
        assert app.settings.top_k == 2 and table.row_count == 3
        [(name, _, run)] = list(typed_commands(app, "threshold -1e9"))
        run()
        await settle(pilot)
        assert engine.null_threshold == -1e9 and table.answer.is_impossible
        assert "threshold -1e+09" in plain(status)


@async_test
async def test_without_a_model_the_app_opens_and_says_so(tmp_path):
    def no_model(_settings):
        raise UserError("no bundled QA model is installed in this version of qa-tui: pass --model DIR_OR_HUB_ID")

    app = make_app(engine_factory=no_model, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, table, status = parts(app)
        assert app.model_state.status == "none"
        assert "no model" in plain(status) and "Model: load" in plain(status)
        assert any("no bundled QA model" in note[2] for note in notices(app))
        await ask(pilot, QUESTION)
        assert table.row_count == 0
        severity, title, message = notices(app)[-1]
        assert severity == "error" and title == "No model" and "--model" in message


@async_test
async def test_a_question_asked_while_the_model_loads_is_answered_when_it_is_ready(engine):
    import threading

    ready = threading.Event()

    def slow(_settings):
        ready.wait(30)
        return engine

    app = make_app(engine_factory=slow, context=SAMPLE, threshold=1e9)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.model_state.status == "loading"
        question = app.screen.query_one("#question")
        question.value = QUESTION
        await pilot.press("enter")
        await pilot.pause()
        _, table, status = parts(app)
        assert "waiting for the model" in plain(status) and table.row_count == 0
        question.value = "typing goes on meanwhile"  # the interface is not blocked
        ready.set()
        await settle(pilot)
        assert table.answer is not None and table.answer.question == QUESTION


@async_test
async def test_a_model_that_fails_to_load_is_an_error_not_a_crash():
    def broken(_settings):
        raise RuntimeError("weights are corrupt")

    app = make_app(engine_factory=broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.model_state.status == "failed" and app.is_running
        assert notices(app)[-1][0] == "error" and "weights are corrupt" in notices(app)[-1][2]


@async_test
async def test_help_lists_every_binding_and_ctrl_q_quits_with_0(engine):
    from qa_tui.tui.screens.help import HelpScreen, binding_sections

    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        sections = dict(binding_sections())
        for name in ("Everywhere", "Workbench", "Training", "Training form", "Candidates", "Question"):
            assert sections[name]
        descriptions = [description for rows in sections.values() for _, description in rows]
        assert any("Quit" in text for text in descriptions) and any("load the finished run" in text.lower() for text in descriptions)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


@async_test
async def test_usable_at_80x24(engine):
    app = make_app(engine, threshold=1e9, context=SAMPLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        pane, table, status = parts(app)
        assert pane.size.height >= 5 and table.size.height >= 7
        assert table.row_count == 6 and pane.selected_text == table.answer.answers[0].text
        assert table.size.width <= 80 and table.virtual_size.width <= table.scrollable_content_region.width + 2


# --- the training screen -----------------------------------------------------------------------------------------


def copy_run(name: str, tmp_path: Path, lines: int | None = None) -> Path:
    run_dir = tmp_path / name
    run_dir.mkdir()
    events = (FIXTURES / name / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (run_dir / "events.jsonl").write_text("".join(events[:lines]), encoding="utf-8")
    return run_dir


def recorded(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name / "events.jsonl").read_text(encoding="utf-8").splitlines()]


def plain(static) -> str:
    """What a Static shows, as plain text (its content may be a Rich table)."""
    from rich.console import Console

    console = Console(width=120, color_system=None)
    with console.capture() as captured:
        console.print(static.content)
    return captured.get()


def training_parts(app):
    from textual.widgets import ProgressBar

    from qa_tui.tui.widgets import LossPlot, MetricsPanel

    screen = app.screen
    return (
        screen.query_one(ProgressBar),
        plain(screen.query_one("#run-stats")),
        screen.query_one(LossPlot),
        plain(screen.query_one(MetricsPanel)),
        plain(screen.query_one("#run-message")),
    )


@async_test
async def test_the_training_screen_renders_a_recorded_run(engine, tmp_path):
    run_dir = copy_run("run-finished", tmp_path)
    logs = [event for event in recorded("run-finished") if event["event"] == "log"]
    app = make_app(engine, mode="training", run_dir=run_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        progress, stats, plot, metrics, message = training_parts(app)
        watcher = app.screen.watcher
        assert watcher.state.status == "finished"
        assert (progress.progress, progress.total) == (40, 40)
        assert "step 40 / 40" in stats and "4.8 ex/s" in stats and "lr 2.78e-05" in stats
        assert watcher.state.losses == [(event["step"], event["loss"]) for event in logs]
        assert len(watcher.state.losses) == 20
        assert "dev" in metrics and "best_f1" in metrics and "56.04" in metrics
        assert "Finished" in message and "press l" in message.lower()
        assert not notices(app)  # a run that had finished before it was opened is no news


@async_test
async def test_the_training_screen_follows_lines_appended_while_it_runs(engine, tmp_path):
    run_dir = copy_run("run-finished", tmp_path, lines=8)  # start + 7 logs: step 14 of 40
    app = make_app(engine, mode="training", run_dir=run_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        progress, stats, _, metrics, _ = training_parts(app)
        assert app.screen.watcher.state.status == "running"
        assert progress.progress == 14 and "step 14 / 40" in stats and "ETA 14s" in stats
        assert "No evaluation yet" in metrics
        assert not app.screen.check_action("load_model", ())
        rest = (FIXTURES / "run-finished" / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[8:]
        with open(run_dir / "events.jsonl", "a", encoding="utf-8") as handle:
            handle.writelines(rest[:5])  # steps 16-22 and a checkpoint
            handle.write(rest[5][:40])  # half a line: waits for its newline
        await pilot.pause(0.3)
        assert app.screen.watcher.state.step == 22
        assert len(app.screen.watcher.state.losses) == 11
        with open(run_dir / "events.jsonl", "a", encoding="utf-8") as handle:
            handle.write(rest[5][40:])
            handle.writelines(rest[6:])
        await pilot.pause(0.3)
        progress, stats, _, metrics, message = training_parts(app)
        assert app.screen.watcher.state.status == "finished" and progress.progress == 40
        assert "best_f1" in metrics and "Finished" in message
        assert any(note[1] == "Training" and "finished" in note[2] for note in notices(app))
        assert app.screen.check_action("load_model", ())


@async_test
async def test_a_failed_run_shows_its_error(engine, tmp_path):
    run_dir = copy_run("run-failed", tmp_path)
    app = make_app(engine, mode="training", run_dir=run_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        *_, message = training_parts(app)
        assert app.screen.watcher.state.status == "failed"
        assert "Failed" in message and "not a SQuAD file" in message


@async_test
async def test_a_restarted_run_starts_a_fresh_view(engine, tmp_path):
    run_dir = copy_run("run-finished", tmp_path)
    app = make_app(engine, mode="training", run_dir=run_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.watcher.state.status == "finished"
        events = (FIXTURES / "run-finished" / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (run_dir / "events.jsonl").unlink()  # --overwrite-output-dir: the run starts again
        (run_dir / "events.jsonl").write_text("".join(events[:3]), encoding="utf-8")
        await pilot.pause(0.3)
        state = app.screen.watcher.state
        assert state.status == "running" and state.step == 4 and len(state.losses) == 2


@async_test
async def test_a_finished_run_loads_its_model_with_one_key(engine, tmp_path, tiny_model_dir):
    run_dir = copy_run("run-finished", tmp_path)
    for item in tiny_model_dir.iterdir():
        if item.is_file():  # not an ONNX export another test left beside it
            shutil.copy(item, run_dir / item.name)
    asked = []

    def factory(settings):
        asked.append(settings.model)
        return engine

    app = make_app(engine_factory=factory, mode="training", run_dir=run_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.current_mode == "training"
        await pilot.press("l")
        await settle(pilot)
        assert app.current_mode == "workbench"
        assert asked[-1] == str(run_dir) and app.settings.model == str(run_dir)
        assert app.model_state.status == "ready"


@async_test
async def test_watching_a_directory_chosen_in_the_dialog(engine, tmp_path):
    run_dir = copy_run("run-failed", tmp_path)
    app = make_app(engine, mode="training")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.watcher is None
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#path-input").value = str(run_dir)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.watcher.run_dir == run_dir and app.screen.watcher.state.status == "failed"


# --- starting runs -----------------------------------------------------------------------------------------------


def test_the_form_builds_train_arguments(tmp_path):
    from qa_tui.tui.runs import TrainRequest

    train = tmp_path / "train.json"
    train.write_text("{}")
    request = TrainRequest.from_fields(
        {"train_files": f"{train} {train}", "output_dir": "runs/x", "epochs": "2", "max_steps": "",
         "learning_rate": "3e-5", "negatives": "0.5", "holdout": "0.05", "batch_size": "16",
         "swap_negatives": "0.4", "negation_negatives": "0.1", "antonym_negatives": "1"},
        overwrite=True,
    )
    assert request.arguments() == [
        "train", "--train-file", str(train), "--train-file", str(train), "--output-dir", "runs/x", "--epochs", "2.0",
        "--batch-size", "16", "--learning-rate", "3e-05", "--negatives", "0.5", "--swap-negatives", "0.4",
        "--negation-negatives", "0.1", "--antonym-negatives", "1.0", "--holdout", "0.05",
        "--overwrite-output-dir",
    ]
    assert request.command()[:4] == [sys.executable, "-m", "qa_tui", "train"]
    weighted = TrainRequest.from_fields({"train_files": f"{train}:3", "output_dir": "runs/y", "selection_file": str(train)})
    assert weighted.arguments() == ["train", "--train-file", f"{train}:3", "--output-dir", "runs/y",
                                    "--selection-file", str(train)]
    for fields, error in [
        ({"output_dir": "x"}, "train files"),
        ({"train_files": str(tmp_path / "nope.json"), "output_dir": "x"}, "no such file"),
        ({"train_files": str(train)}, "output dir"),
        ({"train_files": str(train), "output_dir": "x", "negatives": "1.5"}, "negatives"),
        ({"train_files": str(train), "output_dir": "x", "antonym_negatives": "-0.1"}, "antonym negatives"),
        ({"train_files": str(train), "output_dir": "x", "batch_size": "two"}, "not an integer"),
        ({"train_files": f"{tmp_path / 'nope.json'}:2", "output_dir": "x"}, "nope.json: no such file"),
        ({"train_files": str(train), "output_dir": "x", "selection_file": "sel.json"}, "selection file: sel.json"),
    ]:
        with pytest.raises(UserError, match=error):
            TrainRequest.from_fields(fields)


def test_a_started_run_is_detached_and_its_failure_is_read_from_its_log(tmp_path, monkeypatch):
    """A stand-in for `qa-tui train` (a script): a session of its own, its log moved into the run dir."""
    import time

    from qa_tui.tui import runs

    script = (
        "import json, os, sys, time\n"
        "out = sys.argv[1]; os.makedirs(out, exist_ok=True)\n"
        "with open(os.path.join(out, 'events.jsonl'), 'a') as f:\n"
        "    f.write(json.dumps({'event': 'start', 'time': time.time(), 'settings': {}}) + '\\n')\n"
        "print('session', os.getsid(0) == os.getpid(), flush=True)\n"
        "time.sleep(0.5)\n"
        "print('Traceback: something broke', file=sys.stderr); sys.exit(3)\n"
    )
    output_dir = tmp_path / "runs" / "fake"
    monkeypatch.setattr(runs.TrainRequest, "command", lambda self: [sys.executable, "-c", script, self.output_dir])
    request = runs.TrainRequest(train_files=("t.json",), output_dir=str(output_dir))
    started = runs.start_run(request)
    assert started.log_path == tmp_path / "runs" / "fake.train.log"
    watcher = runs.RunWatcher(output_dir, started=started)
    deadline = time.time() + 30
    while watcher.state.status != "failed" and time.time() < deadline:
        watcher.poll()
        time.sleep(0.05)
    assert watcher.state.status == "failed"
    assert "exited with code 3" in watcher.state.message and "something broke" in watcher.state.message
    assert watcher.log_path == output_dir / "train.log" and not started.log_path.exists()
    assert "session True" in watcher.log_path.read_text()


@async_test
async def test_the_form_starts_a_run_and_the_screen_follows_it(engine, tmp_path, monkeypatch):
    from qa_tui.tui.screens import training

    train = tmp_path / "train.json"
    train.write_text("{}")
    started = []

    def fake_start(request):
        """A process that waits (in a session of its own, like the real one) and writes nothing."""
        import subprocess

        started.append(request)
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        return training.StartedRun(process, tmp_path / "run.train.log", 0.0)

    monkeypatch.setattr(training, "start_run", fake_start)
    app = make_app(engine, mode="training")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert app.focused.id == "field-train_files"
        await pilot.press("ctrl+s")  # nothing filled in: the form says what is missing
        await pilot.pause()
        assert "train files" in plain(app.screen.query_one("#form-error")) and not started
        app.screen.query_one("#field-train_files").value = str(train)
        app.screen.query_one("#field-output_dir").value = str(tmp_path / "run")
        app.screen.query_one("#field-max_steps").value = "60"
        app.screen.query_one("#field-antonym_negatives").value = "0.5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        [request] = started
        assert request.train_files == (str(train),) and request.max_steps == 60 and request.antonym_negatives == 0.5
        assert request.arguments()[-2:] == ["--antonym-negatives", "0.5"]
        watcher = app.screen.watcher
        assert watcher.run_dir == tmp_path / "run" and watcher.process is not None
        assert "no such directory" in plain(app.screen.query_one("#run-message"))
        assert app.screen.check_action("stop_run", ())
        await pilot.press("x")  # SIGTERM to its process group
        assert watcher.started.process.wait(timeout=10) != 0
        await pilot.pause(0.3)
        assert watcher.state.status == "failed" and not app.screen.check_action("stop_run", ())


def test_qa_tui_watch_opens_the_training_screen(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from qa_tui.cli import app as cli

    opened = []
    monkeypatch.setattr(QAWorkbenchApp, "run", lambda self: opened.append((self.start_mode, self.initial_run_dir)))
    result = CliRunner().invoke(cli, ["watch", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert opened == [("training", tmp_path)]
    a_file = tmp_path / "events.jsonl"
    a_file.write_text("")
    result = CliRunner().invoke(cli, ["watch", str(a_file)])
    assert result.exit_code == 2 and "is a file" in result.output


@async_test
async def test_a_model_that_fails_to_load_keeps_the_one_we_had(engine):
    def factory(settings):
        if settings.model == "broken":
            raise UserError("--model broken: no such directory")
        return engine

    app = make_app(engine_factory=factory, context=SAMPLE, threshold=1e9)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.update_settings(model="broken")
        await settle(pilot)
        assert app.model_state.status == "ready" and app.settings.model == "tiny" and app.engine is engine
        assert notices(app)[-1][1] == "Model not loaded"
        await ask(pilot, QUESTION)
        assert parts(app)[1].answer is not None


@async_test
async def test_the_command_palette_opens_samples_and_changes_settings(engine):
    app = make_app(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"sample general tides")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        pane, _, _ = parts(app)
        assert pane.source == "general-tides.txt"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"top-k 9")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.settings.top_k == 9


@async_test
async def test_the_chosen_span_is_scrolled_into_view_in_a_long_context(engine):
    paper = SAMPLE.parent / "cord19-paper-health-care-workers-mental-health.txt"
    app = make_app(engine, threshold=1e9, context=paper, top_k=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await ask(pilot, "What proportion of healthcare workers reported symptoms of depression?")
        pane, table, _ = parts(app)
        table.focus()
        seen_rows = set()
        for row, span in enumerate(table.answer.answers):
            if row:
                await pilot.press("down")
            await pilot.pause()
            assert pane.highlighted_range == (span.start, span.end)
            x, y = pane.cursor_screen_offset  # the cursor sits where the span starts
            assert pane.content_region.contains(x, y), (row, span.start, pane.scroll_offset)
            seen_rows.add(pane.scroll_offset.y)
        assert len(seen_rows) > 1  # the spans are far apart: the view moved
