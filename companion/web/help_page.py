"""`GET /help`: the crisis resources for the configured locale, as a small server-rendered page.

It needs no JavaScript, no sign-in and no service: it must work when everything else does
not. The words come from the safety package (`safety.resources`), which reads the
per-locale resource files in `content/crisis_resources/`; this module only renders them as
escaped HTML, with phone numbers as large tap-to-call links.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from string import Template

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from companion.settings import Settings

__all__ = ["help_router", "markdown_to_html", "render_help_page"]

_TEMPLATE = Template((Path(__file__).parent / "templates" / "help.html").read_text("utf-8"))
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+|/[^)\s]*)\)")
# A phone number or short code: 3+ digits, optionally grouped by spaces or hyphens.
_PHONE = re.compile(r"(?<![\w/.-])(\d[\d -]{1,14}\d)(?![\w/.-])")


def render_help_page(settings: Settings) -> str:
    """Render the help page for `settings.locale`.

    Raises:
        ImportError / LookupError: the resources for the locale are missing (a server
            error is right: a help page without numbers must not look normal).
    """
    from safety.resources import format_resources, load_resources

    text = format_resources(load_resources(settings.locale))
    return _TEMPLATE.substitute(
        lang=html.escape(settings.locale.split("-")[0]),
        resources=markdown_to_html(text),
    )


def help_router(settings: Settings) -> APIRouter:
    """Return a router serving `/help` for `settings`."""
    router = APIRouter()

    @router.get("/help", response_class=HTMLResponse)
    async def help_page() -> HTMLResponse:
        return HTMLResponse(render_help_page(settings))

    return router


def markdown_to_html(text: str) -> str:
    """Render the small Markdown subset resource texts use, escaping everything else.

    Paragraphs, `-` / `*` bullet lists, `**bold**`, `[label](url)` links to http(s) or local
    paths; digit groups that look like phone numbers become `tel:` links.
    """
    blocks: list[str] = []
    items: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(f"<p>{' '.join(paragraph)}</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith(("- ", "* ")):
            if paragraph:
                flush()
            items.append(_inline(line[2:]))
        elif line.startswith("#"):
            flush()
            blocks.append(f"<h2>{_inline(line.lstrip('#').strip())}</h2>")
        else:
            if items:
                flush()
            paragraph.append(_inline(line))
    flush()
    return "\n".join(blocks)


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=True)
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(f'<a href="{match[2]}">{match[1]}</a>')
        return f"\x00{len(links) - 1}\x00"

    escaped = _LINK.sub(keep_link, escaped)
    escaped = _PHONE.sub(_tel_link, escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m[1])], escaped)


def _tel_link(match: re.Match[str]) -> str:
    number = match[1].strip()
    digits = re.sub(r"\D", "", number)
    if len(digits) < 3:
        return match[0]
    return f'<a class="tel" href="tel:{digits}">{number}</a>'
