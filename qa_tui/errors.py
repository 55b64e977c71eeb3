"""The one exception type that the command line turns into a single line on stderr and exit code 2, and the
console every face writes its errors, notes and progress bars to (stderr, so that stdout carries only results)."""

from rich.console import Console

err_console = Console(stderr=True)


class UserError(Exception):
    """Bad input from the user (a file, a flag, a record): say what and where, never a traceback."""
