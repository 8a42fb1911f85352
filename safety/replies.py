"""Fixed, clinically worded replies for risk turns: crisis replies, resources, acknowledgements.

Nothing here is written by the LLM. The copy lives in `content/safety/crisis_replies.yaml`
(reviewed by clinicians, versioned), with translations beside it as
`crisis_replies.<lang>.yaml` (or `crisis_replies.<lang>-<REGION>.yaml` for a regional wording);
the reply is in the language of the patient's locale when a file exists for it, and in English
otherwise. This module picks the band for a tier and the categories that fired, fills in the
patient's locale's crisis resources, and returns the Markdown with the content id so the
escalation record can say exactly which text (and which language) the patient saw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from safety.paths import CONTENT_ROOT
from safety.resources import RESOURCES_ROOT, ResourceSet, format_resources, load_resources
from safety.types import Category, Tier

__all__ = [
    "REPLIES_FILE",
    "CrisisReply",
    "ReplyContent",
    "acknowledgement",
    "crisis_reply",
    "load_replies",
    "replies_file",
    "resources_reply",
    "safety_mode_reply",
]

REPLIES_FILE = CONTENT_ROOT / "safety" / "crisis_replies.yaml"
REPLIES_ROOT = REPLIES_FILE.parent
_BANDS = ("escalate", "urgent", "emergency", "abuse", "harm_to_others", "resources", "safety_mode")
_SELF_RISK = frozenset(
    {Category.PASSIVE_IDEATION, Category.ACTIVE_IDEATION, Category.METHOD_PLAN, Category.INTENT,
     Category.PREPARATION, Category.RECENT_ATTEMPT, Category.SELF_HARM, Category.IMMINENT,
     Category.MEDICAL_EMERGENCY, Category.SCREEN_ERROR}
)
_ABUSE_TAGS = ("domestic_abuse", "child_abuse")
_BLANK_LINES = re.compile(r"\n{3,}")


class ReplyContent(BaseModel):
    """The crisis-reply content file."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    review_date: date
    language: str
    review_status: str = ""
    fallback_note: str
    replies: Mapping[str, str]
    acknowledgements: Mapping[str, str]

    @property
    def content_id(self) -> str:
        """Return "id@version"."""
        return f"{self.id}@{self.version}"


class CrisisReply(BaseModel):
    """A reply ready to show: Markdown text, the content it came from, and the resources used."""

    model_config = ConfigDict(frozen=True)

    text: str
    content_id: str
    band: str
    resources: ResourceSet


@cache
def load_replies(path: Path = REPLIES_FILE) -> ReplyContent:
    """Read and validate the crisis-reply content file (once per process).

    Args:
        path: The YAML file.

    Returns:
        The validated content.

    Raises:
        ValueError: A band or placeholder is missing.
    """
    with path.open(encoding="utf-8") as fh:
        content = ReplyContent.model_validate(yaml.safe_load(fh))
    missing = [b for b in _BANDS if b not in content.replies]
    if missing:
        raise ValueError(f"{path}: replies is missing bands {missing}")
    for band in _BANDS:
        if "{resources}" not in content.replies[band]:
            raise ValueError(f"{path}: reply '{band}' must contain {{resources}}")
    if "distress" not in content.acknowledgements:
        raise ValueError(f"{path}: acknowledgements needs a 'distress' text")
    return content


def replies_file(locale: str, *, root: Path = REPLIES_ROOT) -> Path:
    """Choose the crisis-reply file for a locale: regional, then language, then English.

    Args:
        locale: The patient's locale, e.g. "pt-BR", "es_mx", "fr"; blank means English.
        root: The folder holding `crisis_replies*.yaml`.

    Returns:
        `crisis_replies.<lang>-<REGION>.yaml` if it exists, else `crisis_replies.<lang>.yaml`,
        else the English `crisis_replies.yaml`.
    """
    parts = (locale or "").strip().replace("_", "-").split("-")
    language = parts[0].lower()
    candidates = []
    if language and len(parts) >= 2:
        candidates.append(root / f"crisis_replies.{language}-{parts[-1].upper()}.yaml")
    if language and language != "en":
        candidates.append(root / f"crisis_replies.{language}.yaml")
    for path in candidates:
        if path.is_file():
            return path
    return root / REPLIES_FILE.name


def _band(tier: Tier, categories: Sequence[Category]) -> str:
    cats = set(categories)
    if tier >= Tier.EMERGENCY:
        return "emergency"
    if cats & _SELF_RISK or not cats & {Category.ABUSE_DISCLOSURE, Category.HARM_TO_OTHERS}:
        return "urgent" if tier >= Tier.URGENT else "escalate"
    if Category.ABUSE_DISCLOSURE in cats:
        return "abuse"
    return "harm_to_others"


def _render(band: str, locale: str, *, resources_root: Path = RESOURCES_ROOT) -> CrisisReply:
    content = load_replies(replies_file(locale))
    rs = load_resources(locale, root=resources_root)
    listed = format_resources(
        rs,
        emergency_first=band == "emergency",
        lead_tags=_ABUSE_TAGS if band == "abuse" else (),
    )
    note = content.fallback_note.format(country_name=rs.country_name) if rs.fallback else ""
    text = content.replies[band].format(
        resources=listed, emergency_number=rs.emergency_number, fallback_note=note
    )
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return CrisisReply(text=text, content_id=content.content_id, band=band, resources=rs)


def crisis_reply(*, tier: Tier, categories: Sequence[Category], locale: str) -> CrisisReply:
    """Build the fixed crisis reply for an escalation.

    Band: tier 5 -> "emergency" (emergency number first); otherwise any self-directed risk
    -> "urgent" (tier 4) or "escalate" (tier 3 and, defensively, anything lower); abuse or
    safeguarding only -> "abuse" (domestic- and child-abuse lines first where the locale has
    them); harm to others only -> "harm_to_others".

    Args:
        tier: The assessed tier.
        categories: The categories that fired.
        locale: The patient's locale, e.g. "en-GB".

    Returns:
        The reply with its content id and the resources shown.
    """
    return _render(_band(Tier(tier), categories), locale)


def resources_reply(locale: str) -> CrisisReply:
    """Build the reply for "Get help now" or a patient asking for crisis numbers (no escalation).

    Args:
        locale: The patient's locale.

    Returns:
        The reply listing the locale's resources.
    """
    return _render("resources", locale)


def safety_mode_reply(locale: str) -> CrisisReply:
    """Build the reply said on each later turn while the conversation is in safety mode.

    Args:
        locale: The patient's locale.

    Returns:
        The reply: exercises paused until the care team has checked in, and the resources.
    """
    return _render("safety_mode", locale)


def acknowledgement(tier: Tier, *, locale: str = "") -> str:
    """Return the empathic acknowledgement (with a grounding offer) for a distress turn.

    Args:
        tier: The assessed tier. Tier 0 needs no acknowledgement and gets "". Any tier of 1 or
            more gets the distress text (tiers 2+ should also get screening or a crisis reply,
            which the caller adds; this never raises so it is safe on a risk path).
        locale: The patient's locale; picks the language as for the crisis replies (English
            when blank or untranslated).

    Returns:
        The acknowledgement text.
    """
    if Tier(tier) <= Tier.NONE:
        return ""
    return load_replies(replies_file(locale)).acknowledgements["distress"].strip()
