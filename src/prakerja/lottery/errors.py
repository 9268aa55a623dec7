"""The lottery's one error: input the contract cannot represent, or a published folder that fails a check."""

from __future__ import annotations


class LotteryError(ValueError):
    """Input the contract cannot represent, or a published folder that fails a check; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
