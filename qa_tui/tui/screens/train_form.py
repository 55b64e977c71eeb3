"""The form that starts a training run: the main `qa-tui train` options, checked before anything starts."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label

from qa_tui.errors import UserError
from qa_tui.tui.runs import TrainRequest

# (field, label, placeholder): blank fields are left to `qa-tui train`'s defaults.
FIELDS = (
    ("train_files", "Train file(s)", "SQuAD JSON / JSONL, separated by spaces; FILE:2 counts a file twice"),
    ("mix_in", "Mix in", "a share of a general file against forgetting: FILE:0.05 reads 5% of it"),
    ("dev_file", "Dev file", "optional: evaluated during training"),
    ("output_dir", "Output dir", "where the model, checkpoints and events go"),
    ("model", "Base model", "default: the offline MiniLM encoder"),
    ("epochs", "Epochs", "train's default"),
    ("max_steps", "Max steps", "overrides epochs"),
    ("batch_size", "Batch size", "train's default"),
    ("learning_rate", "Learning rate", "e.g. 3e-5"),
    ("max_seq_length", "Max seq length", "e.g. 384"),
    ("negatives", "Negatives", "0-1: questions re-paired as unanswerable"),
    ("swap_negatives", "Swap neg.", "0-1: a name or number swapped for one the paragraph lacks"),
    ("negation_negatives", "Negation neg.", "0-1: questions negated (When did -> When didn't)"),
    ("antonym_negatives", "Antonym neg.", "0-1: a word swapped for its antonym (largest -> smallest)"),
    ("holdout", "Holdout", "0-1: articles held out (picks the threshold)"),
    ("selection_file", "Selection file", "SQuAD 2.0 file that picks checkpoint and threshold (not with holdout)"),
)


# The recipe for a few hundred annotated questions on top of a fine-tuned reader (docs/annotation.md).
ANNOTATION_RECIPE = {"epochs": "2", "learning_rate": "3e-5"}


class TrainFormScreen(ModalScreen[TrainRequest | None]):
    """Fill in the options; ctrl+s (or the Start button) checks them and starts the run, Escape cancels.

    F4 fills it for "continue from the loaded model on my annotations": the annotations file, the loaded model and
    its window length, the recipe's epochs and learning rate; a general file can then be mixed in at a share.
    """

    BINDINGS = [
        Binding("ctrl+s", "start", "Start"),
        Binding("f4", "from_annotations", "My annotations",
                tooltip="Continue from the loaded model on my annotations (fills the form)"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__()
        self.values = {"output_dir": time.strftime("runs/run-%Y%m%d-%H%M%S"), **(values or {})}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog train-form") as box:
            box.border_title = "New training run: qa-tui train"
            with VerticalScroll(id="form-fields"):
                for name, label, placeholder in FIELDS:
                    with Horizontal(classes="field"):
                        yield Label(label, classes="field-label")
                        yield Input(self.values.get(name, ""), placeholder=placeholder, id=f"field-{name}", compact=True)
                with Horizontal(classes="field"):
                    yield Checkbox("Overwrite output dir", id="overwrite", compact=True)
                    yield Checkbox("Resume", id="resume", compact=True)
            yield Label("", id="form-error", classes="error")
            with Horizontal(id="form-buttons"):
                yield Button("Start (ctrl+s)", variant="primary", id="start", compact=True)
                yield Button("My annotations (F4)", id="from-annotations", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#field-{FIELDS[0][0]}", Input).focus()

    def fields(self) -> dict[str, str]:
        return {name: self.query_one(f"#field-{name}", Input).value for name, _, _ in FIELDS}

    def action_start(self) -> None:
        try:
            request = TrainRequest.from_fields(
                self.fields(),
                overwrite=self.query_one("#overwrite", Checkbox).value,
                resume=self.query_one("#resume", Checkbox).value,
            )
        except UserError as exc:
            self._say(str(exc))
            return
        self.dismiss(request)

    def _say(self, text: str, error: bool = True) -> None:
        label = self.query_one("#form-error", Label)
        label.set_class(error, "error")
        label.update(text)

    def action_from_annotations(self) -> None:
        """Fill in the annotations file and the loaded model; the mix-in field is next."""
        store, engine = getattr(self.app, "annotations", None), getattr(self.app, "engine", None)
        if store is None or engine is None:
            why = "no annotations file is open" if store is None else "no model is loaded"
            self._say(f"Cannot continue from the loaded model: {why}.")
            return
        if not len(store):
            self._say(f"{store.path} holds no annotations yet: annotate with a or u.")
            return
        values = {"train_files": str(store.path), "model": engine.model_name,
                  "max_seq_length": str(engine.windows.max_seq_length),  # its threshold holds for its windows
                  "output_dir": time.strftime("runs/annotations-%Y%m%d-%H%M%S"), **ANNOTATION_RECIPE}
        for name, value in values.items():
            self.query_one(f"#field-{name}", Input).value = value
        self._say(f"{len(store)} annotations. Mix in: a general file at a share (FILE:0.05), or blank.", error=False)
        self.query_one("#field-mix_in", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "start":
            self.action_start()
        elif event.button.id == "from-annotations":
            self.action_from_annotations()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field (ctrl+s starts)."""
        event.stop()
        self.focus_next()
