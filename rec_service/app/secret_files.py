"""Secrets given directly (the environment, a setting) or in a file a setting names: one or
the other, so a secret need not sit on a command line where `ps` shows it."""

from __future__ import annotations

from pathlib import Path


def read_secret(given: str, given_name: str, path: str, path_setting: str) -> str:
    """The secret given, or the one in the file at `path` (surrounding blanks ignored); ""
    when neither is set. Both set, an unreadable file or an empty one is a ValueError naming
    the setting."""
    if given and path:
        raise ValueError(f"set {given_name} or {path_setting}, not both")
    if not path:
        return given
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{path_setting} {path!r} cannot be read: {exc.strerror}") from None
    if not text:
        raise ValueError(f"{path_setting} {path!r} is empty")
    return text
