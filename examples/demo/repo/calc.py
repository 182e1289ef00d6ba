"""A tiny calculator used by task-sync's demo grading task."""


def add(a, b):
    return a + b


def divide(a, b):
    """Return a / b; raise ValueError when b is zero."""
    raise NotImplementedError("divide")
