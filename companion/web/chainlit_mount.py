"""Prepare, import and mount Chainlit, and render the page it serves without third-party links.

Chainlit reads its environment and writes `.chainlit/` and `.files/` under its app root at
import time, and keeps its state in module globals. So the environment is set first, the
import happens here (never at module import time of the app), and a second mount in the same
process is refused rather than half-done.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from companion.settings import Settings
from companion.web.csp import inline_script_hashes, strip_third_party

__all__ = ["CHAT_PATH", "REPO_ROOT", "MountedChat", "mount_chat", "prepare_environment"]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHAT_PATH = "/chat"
HANDLERS = REPO_ROOT / "companion" / "chat.py"
_REMOTE_REF = re.compile(r"""\b(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


class MountedChat:
    """What the rest of the app needs to know about the mounted Chainlit app."""

    def __init__(self, *, script_hashes: list[str]) -> None:
        self.script_hashes = script_hashes


def prepare_environment(settings: Settings, *, app_root: Path = REPO_ROOT) -> None:
    """Set the CHAINLIT_* variables Chainlit reads at import time.

    Raises:
        RuntimeError: Chainlit was already imported with a different app root.
    """
    from companion.keys import session_secret

    if "chainlit.config" in sys.modules:
        imported_root = sys.modules["chainlit.config"].APP_ROOT
        if Path(imported_root).resolve() != app_root.resolve():
            raise RuntimeError(
                f"chainlit was imported before create_app with app root {imported_root}; "
                f"import companion.app first so CHAINLIT_APP_ROOT={app_root} takes effect"
            )
    os.environ["CHAINLIT_APP_ROOT"] = str(app_root)
    os.environ["CHAINLIT_AUTH_SECRET"] = session_secret(settings)


def mount_chat(app: FastAPI, settings: Settings) -> MountedChat:
    """Mount Chainlit at `/chat` on `app` and return the inline-script hashes of its page.

    Raises:
        RuntimeError: Chainlit is already mounted in this process, or its configuration
            would store or upload patient text, or its page still references another host.
    """
    import chainlit.server as chainlit_server
    from chainlit.config import config
    from chainlit.utils import mount_chainlit

    if getattr(chainlit_server, "_companion_mounted", False):
        raise RuntimeError(
            "Chainlit is already mounted in this process (its state is module-global); "
            "create one app per process"
        )
    _check_config(config)
    config.project.user_session_timeout = settings.session_timeout_minutes * 60
    config.ui.language = _ui_language(settings.locale)
    _serve_first_party_page(chainlit_server)
    mount_chainlit(app=app, target=str(HANDLERS), path=CHAT_PATH)
    chainlit_server._companion_mounted = True  # type: ignore[attr-defined]
    page = chainlit_server.get_html_template(CHAT_PATH)
    if _REMOTE_REF.search(page):
        raise RuntimeError(
            "the chat page still references another host; remove remote URLs from "
            ".chainlit/config.toml (custom_css, custom_js) and public/theme.json"
        )
    return MountedChat(script_hashes=inline_script_hashes(page))


def _serve_first_party_page(chainlit_server: Any) -> None:
    """Wrap Chainlit's page renderer so every served page has third-party links removed."""
    original = chainlit_server.get_html_template
    if getattr(original, "_companion_first_party", False):
        return

    def render(root_path: str) -> str:
        return strip_third_party(original(root_path))

    render._companion_first_party = True  # type: ignore[attr-defined]
    chainlit_server.get_html_template = render


def _check_config(config: Any) -> None:
    """Refuse a `.chainlit/config.toml` that would store, upload or run patient content."""
    upload = config.features.spontaneous_file_upload
    problems = []
    if upload is None or upload.enabled is not False:
        problems.append("features.spontaneous_file_upload.enabled must be false")
    if config.features.mcp.enabled:
        problems.append("features.mcp.enabled must be false")
    if config.features.audio is not None and config.features.audio.enabled:
        problems.append("features.audio.enabled must be false")
    if config.features.unsafe_allow_html:
        problems.append("features.unsafe_allow_html must be false")
    if config.code.data_layer is not None:
        problems.append("no Chainlit data layer may be configured")
    if problems:
        raise RuntimeError(f"refusing to start: in .chainlit/config.toml, {'; '.join(problems)}")


def _ui_language(locale: str) -> str:
    """Use the translation for `locale` when we ship one, else en-US."""
    translations = REPO_ROOT / ".chainlit" / "translations"
    return locale if (translations / f"{locale}.json").is_file() else "en-US"
