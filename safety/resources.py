"""Crisis resources per locale: load them from content files and format them for a phone screen.

Each locale has one YAML file under `content/crisis_resources/<locale>.yaml` listing its crisis
lines and emergency number, each with its source and the date it was last verified. A locale
without a file falls back to another locale of the same country ("cy-GB" -> "en-GB"), and
otherwise to `en-US` with `fallback=True`, so the reply can tell the patient to call their
local emergency number if they are not in the United States.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from safety.paths import CONTENT_ROOT

__all__ = [
    "DEFAULT_LOCALE",
    "RESOURCES_ROOT",
    "CrisisResource",
    "ResourceSet",
    "available_locales",
    "format_resources",
    "load_resources",
]

RESOURCES_ROOT = CONTENT_ROOT / "crisis_resources"
DEFAULT_LOCALE = "en-US"

ResourceKind = Literal["phone", "text", "chat", "web", "emergency"]


class CrisisResource(BaseModel):
    """One service a patient can reach: a line to call or text, a chat, or the emergency number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: ResourceKind
    contact: str = Field(description='what to dial or send, e.g. "988" or "Text HOME to 741741"')
    hours: str = ""
    note: str = ""
    source: str = Field(min_length=1)
    last_verified: date
    tags: tuple[str, ...] = Field(
        default=(), description="what it is for: crisis, child_abuse, domestic_abuse, youth, ..."
    )
    status: Literal["confirmed", "secondary"] = "confirmed"


class ResourceSet(BaseModel):
    """All crisis resources for one locale, as a versioned content file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    review_date: date
    locale: str
    country: str
    country_name: str
    emergency_number: str = Field(min_length=1)
    resources: tuple[CrisisResource, ...] = Field(min_length=1)
    not_included: tuple[str, ...] = ()
    fallback: bool = False

    @property
    def content_id(self) -> str:
        """Return "id@version" for audit records."""
        return f"{self.id}@{self.version}"

    def tagged(self, *tags: str) -> tuple[CrisisResource, ...]:
        """Return the resources that carry any of `tags`."""
        return tuple(r for r in self.resources if set(tags).intersection(r.tags))


def _canonical(locale: str) -> str:
    parts = locale.strip().replace("_", "-").split("-")
    if len(parts) >= 2:
        return f"{parts[0].lower()}-{parts[-1].upper()}"
    return parts[0].lower()


@cache
def _read(path: Path) -> ResourceSet:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    try:
        return ResourceSet.model_validate(data)
    except ValueError as exc:
        raise ValueError(f"crisis resources file {path} is invalid: {exc}") from exc


def available_locales(*, root: Path = RESOURCES_ROOT) -> list[str]:
    """List the locales that have a crisis-resource file, sorted.

    Args:
        root: The folder holding `<locale>.yaml` files.

    Returns:
        Locale codes such as "en-GB".
    """
    return sorted(p.stem for p in root.glob("*.yaml"))


def load_resources(locale: str, *, root: Path = RESOURCES_ROOT) -> ResourceSet:
    """Load the crisis resources for a locale, falling back safely when it has no file.

    Lookup order: the exact locale ("en-GB"); then any file for the same country ("cy-GB" ->
    "en-GB"); then `en-US` with `fallback=True`.

    Args:
        locale: A BCP 47-ish code such as "en-GB", "en_gb" or "fr-CA".
        root: The folder holding `<locale>.yaml` files.

    Returns:
        The resource set to show.

    Raises:
        FileNotFoundError: Not even the `en-US` file exists under `root`.
    """
    wanted = _canonical(locale or DEFAULT_LOCALE)
    exact = root / f"{wanted}.yaml"
    if exact.is_file():
        return _read(exact)
    if "-" in wanted:
        country = wanted.split("-")[1]
        same_country = [loc for loc in available_locales(root=root) if loc.endswith(f"-{country}")]
        english_first = sorted(same_country, key=lambda loc: (not loc.startswith("en-"), loc))
        if english_first:
            return _read(root / f"{english_first[0]}.yaml")
    default = root / f"{DEFAULT_LOCALE}.yaml"
    if not default.is_file():
        raise FileNotFoundError(f"no crisis resources for {locale!r} and no {default}; add the file")
    return _read(default).model_copy(update={"fallback": True})


def _line(resource: CrisisResource) -> str:
    hours = f" ({resource.hours})" if resource.hours else ""
    return f"- **{resource.name}**: {resource.contact}{hours}"


def format_resources(
    rs: ResourceSet,
    *,
    emergency_first: bool = False,
    lead_tags: Sequence[str] = (),
) -> str:
    """Format a resource set as short Markdown for a phone screen.

    One line per resource, "**Name**: contact (hours)". The emergency number is always
    included: first when `emergency_first` (tier 5), otherwise last.

    Args:
        rs: The locale's resources.
        emergency_first: Put the emergency number at the top.
        lead_tags: Put resources with any of these tags (e.g. "domestic_abuse") first.

    Returns:
        The Markdown list.
    """
    emergency = [r for r in rs.resources if r.kind == "emergency"]
    others = [r for r in rs.resources if r.kind != "emergency"]
    others.sort(key=lambda r: not set(lead_tags).intersection(r.tags))  # stable: lead tags first
    if not emergency:
        emergency = [CrisisResource(name="Emergency", kind="emergency", contact=rs.emergency_number,
                                    source=rs.id, last_verified=rs.review_date)]
    ordered = [*emergency, *others] if emergency_first else [*others, *emergency]
    return "\n".join(_line(r) for r in ordered)
