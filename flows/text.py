"""Small text helpers: quoting the patient's words back safely inside Markdown copy."""

from __future__ import annotations

import re

__all__ = ["clean_input", "quote_patient_text"]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~>])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def quote_patient_text(text: str, *, limit: int = 240) -> str:
    """Return the patient's words as inert Markdown: one line, escaped, shortened."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def clean_input(text: str) -> str:
    """Strip control and bidi-override characters and surrounding space; keep newlines."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
