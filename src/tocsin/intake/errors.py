"""Why an intake request is refused; each endpoint turns these into its sender's shape."""

from __future__ import annotations


class BadInput(Exception):
    """The sender's request is unusable; `errors` are messages for the sender."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class BodyTooLarge(Exception):
    pass


class UnknownKey(Exception):
    pass


class Overloaded(Exception):
    pass
