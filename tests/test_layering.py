"""qa-tui's imports run one way: the command line -> the faces -> the core -> the base, and never in a circle.

Every import counts, the ones inside functions too: a lazy upward import is still a dependency. A new module must
be given a layer here, which is the moment to decide where it belongs.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qa_tui"  # this checkout's, whatever is installed

# Top to bottom. A module belongs to the layer of its longest listed prefix and may import its own layer and below.
LAYERS = [
    ("command line", {"qa_tui.cli", "qa_tui.__main__"}),
    ("faces", {"qa_tui.ask", "qa_tui.retrieval", "qa_tui.tui", "qa_tui.train", "qa_tui.evaluation",
               "qa_tui.evaluation_cli", "qa_tui.comparison"}),
    ("core", {"qa_tui.engine", "qa_tui.data", "qa_tui.metrics", "qa_tui.loading", "qa_tui.annotations"}),
    ("base", {"qa_tui", "qa_tui.io", "qa_tui.errors", "qa_tui.events", "qa_tui.inputs"}),
]


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the qa_tui modules it imports (a package when it imports names from the package itself)."""
    files = {module_name(path, package): path for path in sorted(package.rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package this module is in
                    anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    imported.add(submodule if submodule in files else base)
        graph[name] = {target for target in imported if target in files and target != name}
    return graph


def layer_of(module: str) -> int:
    """0 for the top layer; the longest listed prefix decides. KeyError for a module no layer lists."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        for depth, (_, members) in enumerate(LAYERS):
            if prefix in members:
                return depth
    raise KeyError(module)


def test_every_module_has_a_layer():
    unplaced = []
    for module in import_graph():
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert not unplaced, f"give these modules a layer in LAYERS: {unplaced}"


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer_of(target) < layer_of(module)
    ]
    assert not upward, "imports must run down: " + "; ".join(upward)


def test_nothing_below_the_command_line_imports_it():
    """What several faces share (loading an engine quietly, the error console) lives below cli, not in it."""
    importers = sorted(module for module, targets in import_graph().items()
                       if "qa_tui.cli" in targets and module != "qa_tui.__main__")
    assert importers == []


def test_the_help_screen_does_not_import_the_app():
    """The app opens the help screen; the help screen reads the global keys from `tui.keys`, not from the app."""
    assert "qa_tui.tui.app" not in import_graph()["qa_tui.tui.screens.help"]


def test_no_import_cycles():
    graph = import_graph()
    cycles = []
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(cycles)
