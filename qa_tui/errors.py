"""The one exception type that the command line turns into a single line on stderr and exit code 2."""


class UserError(Exception):
    """Bad input from the user (a file, a flag, a record): say what and where, never a traceback."""
