"""Crisis resources: every shipped locale loads, is sourced and dated, and falls back safely."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from safety.resources import (
    RESOURCES_ROOT,
    available_locales,
    format_resources,
    load_resources,
)

SHIPPED = ["de-DE", "en-AU", "en-CA", "en-GB", "en-IE", "en-IN", "en-NZ", "en-US", "es-ES", "es-MX", "fr-FR",
           "pt-BR", "pt-PT"]
CRISIS_LINE = {
    "en-US": "988", "en-GB": "116 123", "en-IE": "116 123", "en-CA": "9-8-8", "en-AU": "13 11 14",
    "en-NZ": "1737", "en-IN": "14416", "es-ES": "024", "es-MX": "800 911 2000",
    "de-DE": "0800 111 0 111", "fr-FR": "3114", "pt-BR": "188", "pt-PT": "1411",
}
EMERGENCY = {
    "en-US": "911", "en-GB": "999", "en-IE": "112", "en-CA": "9-1-1", "en-AU": "000", "en-NZ": "111",
    "en-IN": "112", "es-ES": "112", "es-MX": "911", "de-DE": "112", "fr-FR": "112",
    "pt-BR": "192", "pt-PT": "112",
}


def test_shipped_locales() -> None:
    assert available_locales() == SHIPPED


@pytest.mark.parametrize("locale", SHIPPED)
def test_locale_file_is_complete(locale: str) -> None:
    rs = load_resources(locale)
    assert rs.locale == locale and not rs.fallback
    assert rs.id == f"crisis_resources.{locale}" and rs.version and rs.review_date > date(2026, 11, 27)
    assert EMERGENCY[locale] in rs.emergency_number
    assert [r for r in rs.resources if r.kind == "emergency"], "an emergency entry"
    assert [r for r in rs.resources if r.kind != "emergency"], "at least one crisis line"
    for resource in rs.resources:
        assert resource.source.strip()
        assert date(2016, 1, 1) <= resource.last_verified <= date(2026, 11, 27)
    assert CRISIS_LINE[locale] in format_resources(rs)


@pytest.mark.parametrize(
    ("asked", "served", "fallback"),
    [("en_gb", "en-GB", False), ("EN-us", "en-US", False), ("cy-GB", "en-GB", False),
     ("fr-CA", "en-CA", False), ("pt_br", "pt-BR", False), ("pt-AO", "en-US", True), ("xx", "en-US", True),
     ("", "en-US", False)],
)
def test_lookup_and_fallback(asked: str, served: str, fallback: bool) -> None:
    rs = load_resources(asked)
    assert (rs.locale, rs.fallback) == (served, fallback)


def test_fallback_does_not_leak_into_the_cached_set() -> None:
    assert load_resources("pt-AO").fallback is True
    assert load_resources("en-US").fallback is False


def test_missing_default_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="en-US.yaml"):
        load_resources("de-AT", root=tmp_path)


def test_format_is_one_short_line_per_resource() -> None:
    rs = load_resources("en-GB")
    lines = format_resources(rs).splitlines()
    assert len(lines) == len(rs.resources)
    assert all(re.match(r"^- \*\*[^*]+\*\*: \S", line) for line in lines)
    assert "999" in lines[-1]


def test_format_emergency_first_and_lead_tags() -> None:
    rs = load_resources("en-US")
    emergency_first = format_resources(rs, emergency_first=True).splitlines()
    assert "911" in emergency_first[0]
    abuse_first = format_resources(rs, lead_tags=["domestic_abuse"]).splitlines()
    assert "Domestic Violence" in abuse_first[0]


def test_every_file_in_the_folder_is_valid() -> None:
    for path in sorted(RESOURCES_ROOT.glob("*.yaml")):
        assert load_resources(path.stem).locale == path.stem


def test_portuguese_lines_are_sourced_from_official_or_news_pages() -> None:
    brazil, portugal = load_resources("pt-BR"), load_resources("pt-PT")
    assert "CVV" in brazil.resources[0].name and "188" in brazil.resources[0].contact
    assert "1411" in format_resources(portugal) and "808 24 24 24" in format_resources(portugal)
    assert any("sns24.gov.pt" in r.source for r in portugal.resources)


@pytest.mark.parametrize(("locale", "word"), [("es-ES", "Llama"), ("es-MX", "Llama"), ("fr-FR", "Appelle"),
                                              ("de-DE", "Ruf"), ("pt-BR", "Ligue"), ("pt-PT", "Ligue")])
def test_contact_text_is_in_the_locale_language(locale: str, word: str) -> None:
    assert all(r.contact.startswith(word) for r in load_resources(locale).resources)
