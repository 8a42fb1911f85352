"""`GET /help`: the crisis resources for the configured locale, as a small server-rendered page.

It needs no JavaScript, no sign-in and no chat service: it must work when everything else
does not. The words are the safety package's "Get help now" reply (`safety.replies.
resources_reply`: reviewed framing from `content/` around the locale's list from
`safety.resources.load_resources` / `format_resources`); this module only renders them as
escaped HTML, with numbers as large tap-to-call (or tap-to-text) links.
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
_PHONE = re.compile(r"(?<![\w/.\x00-])(\d[\d -]{1,14}\d)(?![\w/\x00-]|\.\w)")
# "Text 85258" / "Text HOME to 741741" (not "call or text 988"): an sms: link, not tel:.
_TEXT_ONLY = re.compile(r"(?<!or )\btext\s+(?:[A-Z]{2,}\s+to\s+)?$", re.I)


def render_help_page(settings: Settings) -> str:
    """Render the help page for `settings.locale`.

    Raises:
        FileNotFoundError: there are no crisis resources at all (a server error is right:
            a help page without numbers must not look normal).
    """
    from safety.replies import resources_reply

    text = resources_reply(settings.locale).text
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
    paths; digit groups that look like phone numbers become `tel:` links, or `sms:` links
    for text-only lines ("Text 85258", "Text HOME to 741741").
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
    """Escape `text`, then add links and bold; numbers inside names or links stay plain."""
    kept: list[str] = []

    def keep(html_text: str) -> str:
        kept.append(html_text)
        return f"\x00{len(kept) - 1}\x00"

    escaped = html.escape(text, quote=True)
    escaped = _LINK.sub(lambda m: keep(f'<a href="{m[2]}">{m[1]}</a>'), escaped)
    escaped = _BOLD.sub(lambda m: keep(f"<strong>{m[1]}</strong>"), escaped)
    escaped = _PHONE.sub(_tel_link, escaped)
    while "\x00" in escaped:
        escaped = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m[1])], escaped)
    return escaped


def _tel_link(match: re.Match[str]) -> str:
    number = match[1].strip()
    digits = re.sub(r"\D", "", number)
    if len(digits) < 3:
        return match[0]
    before = match.string[: match.start()]
    scheme = "sms" if _TEXT_ONLY.search(before) else "tel"
    return f'<a class="tel" href="{scheme}:{digits}">{number}</a>'
