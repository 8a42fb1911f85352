"""Crisis replies: right band per tier and category, safe wording, resources always present."""

from __future__ import annotations

import re

import pytest

from safety.replies import (
    REPLIES_FILE,
    acknowledgement,
    crisis_reply,
    load_replies,
    replies_file,
    resources_reply,
    safety_mode_reply,
)
from safety.resources import available_locales, load_resources
from safety.types import Category, Tier

FORBIDDEN = re.compile(
    r"committed suicide|commit suicide|successful|failed attempt|epidemic|skyrocket|"
    r"\b(?:pills?|tablets?|overdose|rope|noose|hang|jump|bridge|knife|gun|razor|blade|wrist|poison|"
    r"lethal|painless|method)\b",
    re.IGNORECASE,
)
CASES = [
    (Tier.ACTIVE, [Category.ACTIVE_IDEATION], "escalate"),
    (Tier.ACTIVE, [Category.SELF_HARM], "escalate"),
    (Tier.URGENT, [Category.METHOD_PLAN], "urgent"),
    (Tier.URGENT, [Category.RECENT_ATTEMPT, Category.ACTIVE_IDEATION], "urgent"),
    (Tier.EMERGENCY, [Category.IMMINENT], "emergency"),
    (Tier.EMERGENCY, [Category.HARM_TO_OTHERS], "emergency"),
    (Tier.ACTIVE, [Category.ABUSE_DISCLOSURE], "abuse"),
    (Tier.ACTIVE, [Category.HARM_TO_OTHERS], "harm_to_others"),
    (Tier.URGENT, [Category.HARM_TO_OTHERS], "harm_to_others"),
    (Tier.ACTIVE, [Category.ABUSE_DISCLOSURE, Category.SELF_HARM], "escalate"),
    (Tier.UNCLEAR, [Category.SCREEN_ERROR], "escalate"),
    (Tier.ACTIVE, [], "escalate"),
]


def _all_replies(locale: str) -> list[str]:
    texts = [crisis_reply(tier=t, categories=c, locale=locale).text for t, c, _ in CASES]
    return [*texts, resources_reply(locale).text, safety_mode_reply(locale).text]


@pytest.mark.parametrize(("tier", "categories", "band"), CASES)
def test_band(tier: Tier, categories: list[Category], band: str) -> None:
    reply = crisis_reply(tier=tier, categories=categories, locale="en-GB")
    assert reply.band == band
    assert reply.content_id == load_replies().content_id
    assert reply.resources.locale == "en-GB"


@pytest.mark.parametrize("locale", available_locales())
def test_every_reply_has_crisis_line_and_emergency_number(locale: str) -> None:
    rs = load_resources(locale)
    line = next(r for r in rs.resources if r.kind != "emergency")
    emergency = next(r for r in rs.resources if r.kind == "emergency")
    for text in _all_replies(locale):
        assert line.contact in text
        assert emergency.contact in text


@pytest.mark.parametrize("locale", [*available_locales(), "pt-AO", "ja-JP"])
def test_no_forbidden_phrasing(locale: str) -> None:
    for text in _all_replies(locale):
        assert not FORBIDDEN.search(text), FORBIDDEN.search(text)


def test_emergency_reply_leads_with_the_emergency_number() -> None:
    text = crisis_reply(tier=Tier.EMERGENCY, categories=[Category.IMMINENT], locale="en-AU").text
    assert "000" in text.split("\n", 1)[0]


def test_escalations_tell_the_patient_the_care_team_will_see_it() -> None:
    for tier, categories, _ in CASES:
        text = crisis_reply(tier=tier, categories=categories, locale="en-US").text
        assert "care team will see this" in text


def test_abuse_reply_leads_with_abuse_lines_where_the_locale_has_them() -> None:
    text = crisis_reply(tier=Tier.ACTIVE, categories=[Category.ABUSE_DISCLOSURE], locale="en-GB").text
    first_line = next(line for line in text.splitlines() if line.startswith("- "))
    assert "Domestic Abuse" in first_line
    assert "0800 1111" in text  # Childline


def test_fallback_locale_adds_the_local_emergency_note() -> None:
    text = crisis_reply(tier=Tier.ACTIVE, categories=[Category.ACTIVE_IDEATION], locale="ja-JP").text
    assert "If you are not in the United States, call your local emergency number." in text
    home = crisis_reply(tier=Tier.ACTIVE, categories=[Category.ACTIVE_IDEATION], locale="en-US").text
    assert "If you are not in" not in home


def test_resource_and_safety_mode_replies_are_not_escalations() -> None:
    assert resources_reply("en-NZ").band == "resources"
    mode = safety_mode_reply("en-NZ")
    assert mode.band == "safety_mode"
    assert "paused" in mode.text and "care team" in mode.text


def test_replies_have_no_unfilled_placeholders() -> None:
    for text in _all_replies("en-IE"):
        assert "{" not in text and "}" not in text
        assert "\n\n\n" not in text


def test_acknowledgement() -> None:
    text = acknowledgement(Tier.DISTRESS)
    assert "slow breath" in text and "Get help now" in text, "a small, honest offer: no exercise the app lacks"
    assert acknowledgement(Tier.NONE) == ""
    assert acknowledgement(Tier.URGENT) == text  # never raises on a risk path


def test_content_file_has_id_version_review_date() -> None:
    content = load_replies()
    assert content.id and content.version and content.review_date


TRANSLATED = {"es": "Gracias por contármelo", "fr": "Merci de me l'avoir dit", "de": "Danke, dass du",
              "pt": "Obrigado por me contar"}


@pytest.mark.parametrize(("locale", "language"), [("es-ES", "es"), ("es-MX", "es"), ("fr-FR", "fr"),
                                                  ("fr-CA", "fr"), ("de-DE", "de"), ("pt-BR", "pt"),
                                                  ("pt-PT", "pt"), ("pt_br", "pt")])
def test_replies_are_in_the_locale_language(locale: str, language: str) -> None:
    reply = crisis_reply(tier=Tier.ACTIVE, categories=[Category.ACTIVE_IDEATION], locale=locale)
    assert reply.text.startswith(TRANSLATED[language])
    assert reply.content_id == load_replies(replies_file(locale)).content_id
    assert reply.content_id.startswith(f"safety.crisis_replies.{language}@")
    assert "Thank you" not in resources_reply(locale).text + safety_mode_reply(locale).text
    assert acknowledgement(Tier.DISTRESS, locale=locale) == load_replies(
        replies_file(locale)).acknowledgements["distress"].strip()


@pytest.mark.parametrize("locale", ["en-GB", "ja-JP", "", "xx", "cy-GB"])
def test_untranslated_locales_get_english(locale: str) -> None:
    assert replies_file(locale) == REPLIES_FILE
    assert crisis_reply(tier=Tier.ACTIVE, categories=[], locale=locale).text.startswith("Thank you")


@pytest.mark.parametrize("language", sorted(TRANSLATED))
def test_translations_mirror_the_english_file(language: str) -> None:
    english = load_replies()
    path = REPLIES_FILE.with_name(f"crisis_replies.{language}.yaml")
    translated = load_replies(path)
    assert translated.language == language
    assert translated.review_status == "translation pending clinical review"
    assert "TRANSLATION PENDING CLINICAL REVIEW" in path.read_text("utf-8")
    assert set(translated.replies) == set(english.replies)
    assert set(translated.acknowledgements) == set(english.acknowledgements)
    for band, text in english.replies.items():
        for placeholder in ("{resources}", "{emergency_number}", "{fallback_note}"):
            assert (placeholder in text) == (placeholder in translated.replies[band]), (band, placeholder)
    assert "{country_name}" in translated.fallback_note
    assert "Get help now" in translated.acknowledgements["distress"]


@pytest.mark.parametrize("locale", ["es-ES", "fr-FR", "de-DE", "pt-BR", "pt-PT"])
def test_translated_emergency_reply_leads_with_the_emergency_number(locale: str) -> None:
    rs = load_resources(locale)
    text = crisis_reply(tier=Tier.EMERGENCY, categories=[Category.IMMINENT], locale=locale).text
    assert rs.emergency_number in text.split("\n", 1)[0]
    assert "If you are not in" not in text
