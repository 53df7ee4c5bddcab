"""Comparing text the way Turkish users write it."""


def fold(text: str) -> str:
    """Case-insensitive form that survives a Turkish keyboard: İ/ı are I/i (``'İ'.casefold()`` is two letters, and
    ``'ı'.casefold()`` is not ``'i'``)."""
    return text.replace("İ", "I").replace("ı", "i").casefold()
