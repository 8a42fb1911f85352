"""Where clinical content lives on disk; the one place that knows the repository layout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CONTENT_ROOT", "SAFETY_DATA"]

CONTENT_ROOT = Path(__file__).resolve().parents[1] / "content"
SAFETY_DATA = Path(__file__).resolve().parent / "data"
