"""The one exception type a user sees as a one-line message instead of a traceback."""


class MunitError(Exception):
    """A problem with the user's input (file, key, shape or value) that names what is wrong
    and how to fix it. The CLI prints it as one line and exits non-zero."""
