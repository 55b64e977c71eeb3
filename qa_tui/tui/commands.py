"""The command palette's settings (ctrl+p): top-k, no-answer threshold, model, compare, device, precision, runtime,
samples.

Typing a value works too: `top-k 7`, `threshold -1.5`, `model runs/squad-minilm`, `compare runs/other`.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from qa_tui.tui.messages import ContextChosen, CorpusChosen
from qa_tui.tui.runs import find_models
from qa_tui.tui.samples import sample_files, sample_title
from qa_tui.tui.screens.prompt import PromptScreen, check_float_or_blank, check_int

Command = tuple[str, str, Callable[[], object]]

TOP_K_CHOICES = (1, 3, 5, 10, 20)
RETRIEVER_HELP = {
    "hybrid": "BM25 + MiniLM embeddings, fused (the default; embeds the corpus once)",
    "bm25": "Word matching only: fast to index",
    "dense": "MiniLM embeddings only",
    "whole": "No search: read every file whole (one long paper)",
}
RUNTIME_HELP = {
    "auto": "What runs the model: qa-tui's choice for this machine (reloads it)",
    "torch": "What runs the model: PyTorch (reloads it)",
    "onnx": "What runs the model: ONNX Runtime on the CPU, exported on first use (reloads it)",
}
PASSAGE_CHOICES = (3, 5, 10, 20)
MAX_TOP_K = 100


def prompt_top_k(app) -> None:
    def chosen(value: str | None) -> None:
        if value:
            app.update_settings(top_k=int(value))

    app.push_screen(
        PromptScreen(
            "Top-k",
            value=str(app.settings.top_k),
            hint=f"How many candidate spans to list (1-{MAX_TOP_K}).",
            check=check_int(1, MAX_TOP_K),
        ),
        chosen,
    )


def prompt_threshold(app) -> None:
    def chosen(value: str | None) -> None:
        if value is not None:
            app.update_settings(null_threshold=float(value) if value else None)

    current = app.settings.null_threshold
    app.push_screen(
        PromptScreen(
            "No-answer threshold",
            value="" if current is None else f"{current:g}",
            placeholder="blank: the threshold saved with the model",
            hint="Say “no answer” when no-answer score − best span score exceeds this.",
            check=check_float_or_blank,
        ),
        chosen,
    )


def prompt_model(app) -> None:
    def chosen(value: str | None) -> None:
        if value:
            app.update_settings(model=value)

    app.push_screen(
        PromptScreen(
            "Load a model",
            value=app.settings.model or "",
            placeholder="a model directory (with config.json) or a Hugging Face hub id",
            hint="Loaded in the background; the status bar says when it is ready.",
        ),
        chosen,
    )


def prompt_compare(app) -> None:
    def chosen(value: str | None) -> None:
        if value:
            app.compare_with(value)

    app.push_screen(
        PromptScreen(
            "Compare with model",
            value=app.compare_state.model or "",
            placeholder="a second model directory (with config.json) or a Hugging Face hub id",
            hint="Both models then answer every question, side by side; = marks the spans both list.",
        ),
        chosen,
    )


def settings_commands(app, screen) -> list[Command]:
    """Every palette command, as (name, help, callback)."""
    from qa_tui.tui.screens.workbench import WorkbenchScreen

    commands: list[Command] = [
        ("Settings: top-k…", "How many candidate spans to list", partial(prompt_top_k, app)),
        *[
            (f"Settings: top-k {k}", f"List {k} candidate span{'s' if k > 1 else ''}", partial(app.update_settings, top_k=k))
            for k in TOP_K_CHOICES
        ],
        ("Settings: no-answer threshold…", "When the reader says “no answer”", partial(prompt_threshold, app)),
        (
            "Settings: no-answer threshold from the model",
            "Use the threshold saved with the model (else 0)",
            partial(app.update_settings, null_threshold=None),
        ),
        ("Model: load…", "Load a model directory or hub id", partial(prompt_model, app)),
        ("Model: reload", "Load the current model again", app.load_model),
        ("Compare with model…", "Load a second model: both answer each question", partial(prompt_compare, app)),
        *([("Compare: off", "Back to one model's answers", app.compare_off)]
          if app.compare_state.status in ("ready", "loading") else []),
        *[
            (f"Model: load {path}", "A model trained under ./runs", partial(app.update_settings, model=str(path)))
            for path in find_models()
        ],
        *[(f"Device: {device}", "Where the model runs (reloads it)", partial(app.update_settings, device=device))
          for device in ("auto", "cpu", "cuda", "mps")],
        *[(f"Precision: {precision}", "Model precision (reloads it)", partial(app.update_settings, precision=precision))
          for precision in ("auto", "bf16", "fp16", "fp32", "int8")],
        *[(f"Runtime: {runtime}", help_text, partial(app.update_settings, runtime=runtime))
          for runtime, help_text in RUNTIME_HELP.items()],
        ("Screen: training", "Start or watch a training run", partial(app.switch_mode, "training")),
        ("Screen: workbench", "Ask questions", partial(app.switch_mode, "workbench")),
    ]
    if isinstance(screen, WorkbenchScreen):
        commands += [
            ("Open folder as corpus…", "Ask all the files of a folder at once (F3)", screen.action_open_corpus),
            *[(f"Corpus: retriever {name}", help_text, partial(app.update_settings, retriever=name))
              for name, help_text in RETRIEVER_HELP.items()],
            *[(f"Corpus: read {k} passages", f"Read the {k} best passages per question",
               partial(app.update_settings, passages=k)) for k in PASSAGE_CHOICES],
        ]
        if screen.corpus is not None:
            commands.append(("Corpus: close", "Back to asking about one context", screen.leave_corpus))
            commands.append(("Corpus: reindex", "Open the corpus folder again (indexes changed files)",
                             partial(screen.post_message, CorpusChosen(screen.corpus_path))))
        commands += [
            (f"Sample: {sample_title(path)}", f"Open {path.name} as the context",
             partial(screen.post_message, ContextChosen(path)))
            for path in sample_files()
        ]
    return commands


def typed_commands(app, query: str) -> Iterator[Command]:
    """Commands with a value typed into the palette: `top-k 7`, `threshold -1.5`, `model DIR`."""
    query = query.strip()
    if match := re.fullmatch(r"(?:settings:?\s*)?top[- ]?k\s*=?\s*(\d+)", query, re.I):
        k = int(match.group(1))
        if 1 <= k <= MAX_TOP_K:
            yield (f"Settings: top-k {k}", f"List {k} candidate spans", partial(app.update_settings, top_k=k))
    if match := re.fullmatch(r"(?:settings:?\s*)?(?:no-answer |null )?threshold\s*=?\s*(-?[\d.]+(?:e-?\d+)?)", query, re.I):
        try:
            value = float(match.group(1))
        except ValueError:
            return
        yield (f"Settings: no-answer threshold {value:g}", "Set the no-answer threshold",
               partial(app.update_settings, null_threshold=value))
    match = re.fullmatch(r"compare(?: with)?(?: model)?:?\s+(\S+)", query, re.I)
    if match and match.group(1).lower() != "off":
        yield (f"Compare with {match.group(1)}", "Load this second model: both answer each question",
               partial(app.compare_with, match.group(1)))
    match = re.fullmatch(r"(?:model:?\s+(?:load\s+)?|load\s+(?:model\s+)?)(\S+)", query, re.I)
    if match and ("/" in match.group(1) or Path(match.group(1)).expanduser().is_dir()):
        yield (f"Model: load {match.group(1)}", "Load this model directory or hub id",
               partial(app.update_settings, model=match.group(1)))


class SettingsCommands(Provider):
    """Palette provider for the workbench settings."""

    async def discover(self) -> Hits:
        for name, help_text, callback in settings_commands(self.app, self.screen):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        typed = set()
        for name, help_text, callback in typed_commands(self.app, query):
            typed.add(name)
            yield Hit(1.0, name, callback, help=help_text)
        matcher = self.matcher(query)
        for name, help_text, callback in settings_commands(self.app, self.screen):
            score = matcher.match(name)
            if score > 0 and name not in typed:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
