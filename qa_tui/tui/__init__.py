"""The workbench: a Textual app over the shared QA engine, and a view of training runs.

Layout: `app.py` (the App: modes, the model it holds), `keys.py` (its global key bindings, which the help screen
lists too), `launch.py` (what `qa-tui` and `qa-tui watch` call), `state.py` (settings and model state),
`messages.py` (the custom messages between widgets and screens), `commands.py` (command palette), `runs.py`
(starting and following training runs, no Textual), `samples.py` (the bundled sample contexts), `screens/` and
`widgets/`, styles in `*.tcss`.

Nothing here imports torch or transformers at module level: the model is loaded in a worker thread, so the
interface shows at once.
"""
