"""Tests for companion.web.chainlit_mount: the config guard and the UI language choice.

These use stand-in config objects, so they do not import Chainlit (whose state is global).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from companion.web.chainlit_mount import _check_config, _ui_language


def _config(**features: Any) -> SimpleNamespace:
    base: dict[str, Any] = {
        "spontaneous_file_upload": SimpleNamespace(enabled=False),
        "mcp": SimpleNamespace(enabled=False),
        "audio": SimpleNamespace(enabled=False),
        "unsafe_allow_html": False,
    }
    base.update(features)
    return SimpleNamespace(features=SimpleNamespace(**base), code=SimpleNamespace(data_layer=None))


def test_the_shipped_settings_pass() -> None:
    _check_config(_config())


@pytest.mark.parametrize(
    ("features", "named"),
    [
        ({"spontaneous_file_upload": None}, "spontaneous_file_upload"),  # Chainlit's default is on
        ({"spontaneous_file_upload": SimpleNamespace(enabled=True)}, "spontaneous_file_upload"),
        ({"mcp": SimpleNamespace(enabled=True)}, "mcp"),
        ({"audio": SimpleNamespace(enabled=True)}, "audio"),
        ({"unsafe_allow_html": True}, "unsafe_allow_html"),
    ],
)
def test_features_that_store_upload_or_run_content_are_refused(features: dict[str, Any], named: str) -> None:
    with pytest.raises(RuntimeError, match=named):
        _check_config(_config(**features))


def test_a_chainlit_data_layer_is_refused() -> None:
    config = _config()
    config.code.data_layer = object()
    with pytest.raises(RuntimeError, match="data layer"):
        _check_config(config)


def test_ui_language_falls_back_to_en_us() -> None:
    assert _ui_language("en-GB") == "en-GB"
    assert _ui_language("en-US") == "en-US"
    assert _ui_language("xx-YY") == "en-US"
