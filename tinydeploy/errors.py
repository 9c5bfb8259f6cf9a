"""One exception type for every user-facing failure: a message and what to do."""


class TinyDeployError(Exception):
    """A problem the user can fix; the CLI prints it as one line, no traceback, and exits with exit_code."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UnsupportedModelError(TinyDeployError):
    """The model is valid TFLite but uses something we cannot compile."""
