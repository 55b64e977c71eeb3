"""The workbench App: two modes (workbench, training), global keys, the settings and the one loaded model.

The model is loaded by `engine_factory(settings)` in a thread worker, so the interface shows at once; tests pass
a factory that returns a ready engine. Everything else lives in screens/ and widgets/.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

from textual.app import App
from textual.reactive import reactive

from qa_tui.annotations import AnnotationStore
from qa_tui.errors import UserError
from qa_tui.tui.commands import SettingsCommands
from qa_tui.tui.keys import GLOBAL_BINDINGS
from qa_tui.tui.messages import (
    CompareLoaded,
    CompareLoadFailed,
    LoadModelRequested,
    ModelLoaded,
    ModelLoadFailed,
)
from qa_tui.tui.screens.help import HelpScreen
from qa_tui.tui.screens.training import TrainingScreen
from qa_tui.tui.screens.workbench import WorkbenchScreen
from qa_tui.tui.state import ModelState, Settings

RELOADING_SETTINGS = ("model", "device", "precision", "runtime")  # a change of any loads the model again

EngineFactory = Callable[[Settings], Any]
"""Builds a QA engine (anything with `answer`, `describe` and `null_threshold`) for the given settings."""


def default_engine_factory(settings: Settings):
    """Load the model the settings name (None: the bundled one); runs in the app's worker thread."""
    from qa_tui.loading import load_engine

    return load_engine(settings.model, settings.device, settings.precision, settings.null_threshold, settings.runtime)


class QAWorkbenchApp(App[int]):
    """qa-tui's terminal app. `mode` is `workbench` or `training` (what `qa-tui watch` opens)."""

    TITLE = "qa-tui"
    CSS_PATH = ["app.tcss", "dialogs.tcss", "training.tcss"]
    MODES = {"workbench": WorkbenchScreen, "training": TrainingScreen}
    COMMANDS = App.COMMANDS | {SettingsCommands}
    BINDINGS = GLOBAL_BINDINGS

    settings: reactive[Settings] = reactive(Settings, init=False)
    model_state: reactive[ModelState] = reactive(ModelState, init=False)
    compare_state: reactive[ModelState] = reactive(ModelState, init=False)  # the second model (compare mode)

    def __init__(
        self,
        settings: Settings = Settings(),
        *,
        engine_factory: EngineFactory | None = None,
        context: Path | None = None,
        mode: str = "workbench",
        run_dir: Path | None = None,
        clock: Callable[[], float] = time.perf_counter,
        poll_interval: float = 0.5,
        annotations: AnnotationStore | None = None,
    ) -> None:
        super().__init__()
        self.set_reactive(QAWorkbenchApp.settings, settings)
        self.engine_factory = engine_factory
        self.engine: Any = None
        self.initial_context = context
        self.initial_run_dir = run_dir
        self.start_mode = mode
        self.clock = clock
        self.poll_interval = poll_interval
        self.annotations = annotations  # None: annotating is off (tests that do not need it)
        self._load_serial = 0
        self._loaded: Settings | None = None  # the settings the loaded engine was built with
        self._model_threshold = 0.0  # the threshold saved with the loaded model
        self.compare_engine: Any = None
        self._compare_serial = 0
        self._compare_model_threshold = 0.0

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)
        self.load_model()

    # --- the model ---------------------------------------------------------------------------------------------

    def load_model(self) -> None:
        """(Re)load the model the settings name, in a worker; a newer load supersedes this one."""
        self._load_serial += 1
        self.model_state = ModelState("loading", model=self.settings.model or "the bundled model")
        job = partial(self._build_engine, self._load_serial, self.settings)
        self.run_worker(job, name="load model", group="model", thread=True, exclusive=True, exit_on_error=False)

    def _build(self, settings: Settings) -> tuple[Any, str, bool]:
        """Runs in a thread: (engine, "", False), or (None, why, whether it is the user's input) when it fails.

        Loads with the model's own threshold, so that `threshold: model` can go back to it (`_apply_threshold`).
        """
        factory = self.engine_factory or default_engine_factory
        try:
            return factory(replace(settings, null_threshold=None)), "", False
        except UserError as exc:
            return None, str(exc), True
        except Exception as exc:  # torch / transformers failures: reported, never a crash
            return None, f"{type(exc).__name__}: {exc}", False

    def _build_engine(self, serial: int, settings: Settings) -> None:
        engine, error, user_error = self._build(settings)
        if engine is None:
            self.post_message(ModelLoadFailed(serial, error, user_error=user_error))
        else:
            self.post_message(ModelLoaded(serial, engine))

    def on_model_loaded(self, message: ModelLoaded) -> None:
        if message.serial != self._load_serial:
            return
        self.engine = message.engine
        self._loaded = self.settings
        self._model_threshold = float(getattr(self.engine, "null_threshold", 0.0) or 0.0)
        self.model_state = self._ready_state(self.engine, self._apply_threshold())

    def _ready_state(self, engine, null_threshold: float | None) -> ModelState:
        info = engine.describe()
        return ModelState("ready", info["model"], info["device"], info["precision"], null_threshold,
                          runtime=info["runtime"])

    def on_model_load_failed(self, message: ModelLoadFailed) -> None:
        if message.serial != self._load_serial:
            return
        if self.engine is not None and self._loaded is not None:  # keep answering with the model we had
            loaded = self._loaded
            self.set_reactive(
                QAWorkbenchApp.settings,
                replace(self.settings, model=loaded.model, device=loaded.device, precision=loaded.precision,
                        runtime=loaded.runtime),
            )
            self.model_state = self._ready_state(self.engine, self._apply_threshold())
        else:
            self.model_state = ModelState("none" if message.user_error else "failed", message=message.error)
        self.notify(message.error, title="No model loaded" if self.engine is None else "Model not loaded",
                    severity="warning" if message.user_error else "error", timeout=8)

    def _apply_threshold(self) -> float:
        """The app's threshold, else each model's own, on the loaded model (returned) and the compared one."""
        threshold = self.settings.null_threshold
        effective = self._model_threshold if threshold is None else threshold
        if self.engine is not None:
            self.engine.null_threshold = effective
        if self.compare_engine is not None:
            self.compare_engine.null_threshold = self._compare_model_threshold if threshold is None else threshold
        return effective

    def update_settings(self, **changes) -> None:
        """Change settings (from the palette); a new model, device, precision or runtime reloads the model."""
        old = self.settings
        self.settings = replace(old, **changes)
        if any(getattr(old, key) != getattr(self.settings, key) for key in RELOADING_SETTINGS):
            self.load_model()
            if self.compare_state.status == "ready" and old.model == self.settings.model:
                self.compare_with(self.compare_state.model)  # the same device, precision and runtime for both
        elif self.model_state.status == "ready":
            self.model_state = replace(self.model_state, null_threshold=self._apply_threshold())

    def on_load_model_requested(self, message: LoadModelRequested) -> None:
        self.switch_mode("workbench")
        self.update_settings(model=message.model)
        self.notify(f"Loading {message.model}…", title="Model")

    # --- compare mode: a second model answers the same questions --------------------------------------------------

    def compare_with(self, model: str) -> None:
        """Load `model` (directory or hub id) as the second model, in a worker; the workbench shows both."""
        self._compare_serial += 1
        self.compare_engine = None  # not the model being replaced: questions asked meanwhile get one model
        self.compare_state = ModelState("loading", model=model)
        job = partial(self._build_compare, self._compare_serial, replace(self.settings, model=model))
        self.run_worker(job, name="load compare model", group="compare", thread=True, exclusive=True,
                        exit_on_error=False)
        self.notify(f"Loading {model} to compare…", title="Compare")

    def _build_compare(self, serial: int, settings: Settings) -> None:
        engine, error, _ = self._build(settings)
        if engine is None:
            self.post_message(CompareLoadFailed(serial, error))
        else:
            self.post_message(CompareLoaded(serial, engine))

    def on_compare_loaded(self, message: CompareLoaded) -> None:
        if message.serial != self._compare_serial:
            return
        self.compare_engine = message.engine
        self._compare_model_threshold = float(getattr(message.engine, "null_threshold", 0.0) or 0.0)
        self._apply_threshold()
        self.compare_state = self._ready_state(message.engine, self.compare_engine.null_threshold)

    def on_compare_load_failed(self, message: CompareLoadFailed) -> None:
        if message.serial != self._compare_serial:
            return
        self.compare_engine = None
        self.compare_state = ModelState("failed", message=message.error)
        self.notify(message.error, title="Compare model not loaded", severity="error", timeout=8)

    def compare_off(self) -> None:
        self._compare_serial += 1  # a load still running is dropped when it ends
        self.compare_engine = None
        self.compare_state = ModelState()

    # --- actions -----------------------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_training(self) -> None:
        self.switch_mode("training" if self.current_mode == "workbench" else "workbench")

    async def action_quit(self) -> None:
        self.exit(0)
