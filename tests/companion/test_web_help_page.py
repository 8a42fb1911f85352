"""Tests for companion.web.help_page: safe rendering, and the real crisis resources per locale."""

from __future__ import annotations

import importlib.util

import pytest

from companion.settings import Settings
from companion.web.help_page import markdown_to_html, render_help_page


def test_text_is_escaped_and_only_plain_links_survive() -> None:
    out = markdown_to_html('<script>x()</script> [ok](https://988lifeline.org) [bad](javascript:alert(1))')
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert '<a href="https://988lifeline.org">ok</a>' in out
    assert 'href="javascript' not in out


def test_lists_bold_and_phone_numbers() -> None:
    out = markdown_to_html("Call now:\n\n- **988 Lifeline & more**: Call or text 988\n- Samaritans: 116 123")
    assert out.startswith("<p>Call now:</p>\n<ul><li>")
    assert "<strong>988 Lifeline &amp; more</strong>" in out  # numbers in names stay plain
    assert '<a class="tel" href="tel:988">988</a>' in out
    assert '<a class="tel" href="tel:116123">116 123</a>' in out


def test_text_only_lines_get_sms_links_and_sentence_ends_still_link() -> None:
    out = markdown_to_html("Text HOME to 741741. Text 85258 now. If in danger, call 911.")
    assert 'href="sms:741741"' in out and 'href="sms:85258"' in out
    assert '<a class="tel" href="tel:911">911</a>.' in out


def test_numbers_inside_words_and_urls_are_not_phone_links() -> None:
    out = markdown_to_html("Chat at 988lifeline.org, open 24/7")
    assert "tel:" not in out


@pytest.mark.parametrize(("locale", "number"), [("en-US", "988"), ("en-GB", "116 123")])
def test_help_page_shows_the_crisis_lines_for_the_locale(locale: str, number: str) -> None:
    if importlib.util.find_spec("safety.resources") is None:
        pytest.fail(
            "TODO: safety.resources (load_resources / format_resources) is not there yet; "
            "the /help page cannot show crisis lines until it lands"
        )
    page = render_help_page(Settings(locale=locale))
    assert number in page
    assert 'href="tel:' in page
    assert "<script" not in page
