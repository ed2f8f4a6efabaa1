"""One exception type the CLI turns into a one-line error and a non-zero exit."""


class SimError(Exception):
    """A failure the user can act on; its message is printed as is, on one line."""
