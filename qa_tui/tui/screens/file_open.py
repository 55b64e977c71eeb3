"""Choose a file (a context) or a directory (a training run): type a path, pick a shortcut, or browse."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, OptionList
from textual.widgets.option_list import Option


class _DirectoriesOnly(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if path.is_dir() and not path.name.startswith(".")]


class _VisibleFiles(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".")]


class FileOpenScreen(ModalScreen[Path | None]):
    """A path input, a list of shortcuts (the sample contexts, or the runs found) and a directory tree.

    Choosing a file in the tree or a shortcut closes the dialog with that path; Enter in the input closes it with
    what was typed (checked by whoever opened the dialog, who says what is wrong with it). With `directories`,
    the tree shows folders only and choosing one fills the input (Enter then confirms).
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+l", "focus_path", "Path", show=False),
    ]

    def __init__(
        self,
        title: str,
        *,
        shortcuts: list[tuple[str, Path]] | None = None,
        shortcuts_title: str = "Samples",
        root: Path | None = None,
        directories: bool = False,
        focus_shortcuts: bool = False,
    ):
        super().__init__()
        self.title_text = title
        self.shortcuts = shortcuts or []
        self.shortcuts_title = shortcuts_title
        self.root = root or Path.cwd()
        self.directories = directories
        self.focus_shortcuts = focus_shortcuts and bool(self.shortcuts)

    def compose(self) -> ComposeResult:
        what = "directory" if self.directories else "file"
        with Vertical(classes="dialog file-open") as box:
            box.border_title = self.title_text
            yield Input(placeholder=f"Type a {what} path and press Enter", id="path-input")
            with Horizontal(id="pickers"):
                if self.shortcuts:
                    shortcuts = OptionList(
                        *(Option(label, id=str(index)) for index, (label, _) in enumerate(self.shortcuts)),
                        id="shortcuts",
                    )
                    shortcuts.border_title = self.shortcuts_title
                    yield shortcuts
                tree_class = _DirectoriesOnly if self.directories else _VisibleFiles
                tree = tree_class(self.root, id="tree")
                tree.border_title = str(self.root)
                yield tree
            yield Label("enter: open · tab: next pane · esc: cancel", classes="hint")

    def on_mount(self) -> None:
        if self.focus_shortcuts:
            self.query_one("#shortcuts", OptionList).focus()
        else:
            self.query_one("#path-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if value:
            self.dismiss(Path(value).expanduser())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.shortcuts[int(event.option.id)][1])

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if not self.directories:
            self.dismiss(event.path)

    def on_directory_tree_directory_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        if self.directories:
            path_input = self.query_one("#path-input", Input)
            path_input.value = str(event.path)

    def action_focus_path(self) -> None:
        self.query_one("#path-input", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
