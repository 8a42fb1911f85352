"""Identifier masking: what is hidden, what is left alone, numbered tags, and large input."""

from __future__ import annotations

import pytest

from flows.pii import TAG_PATTERN, IdentifierMasker, mask_identifiers


@pytest.mark.parametrize(
    ("text", "hidden", "tag"),
    [
        (
            "Write to sarah.jones+cbt@example.co.uk please",
            "sarah.jones+cbt@example.co.uk",
            "[email]",
        ),
        ("see https://example.com/me?id=7 later", "https://example.com/me?id=7", "[url]"),
        ("my blog www.my-diary.org is private", "www.my-diary.org", "[url]"),
        ("it is on mysite.com/page now", "mysite.com/page", "[url]"),
        ("ring +44 20 7946 0958 now", "+44 20 7946 0958", "[phone]"),
        ("ring +1 (555) 123-4567 now", "+1 (555) 123-4567", "[phone]"),
        ("ring (020) 7946 0958 now", "(020) 7946 0958", "[phone]"),
        ("ring 07700 900123 now", "07700 900123", "[phone]"),
        ("ring 555-123-4567 now", "555-123-4567", "[phone]"),
        ("ring 0612345678 now", "0612345678", "[phone]"),
        ("I live at 221B Baker Street now", "221B Baker Street", "[address]"),
        ("I live at 12 elm road now", "12 elm road", "[address]"),
        ("London NW1 6XE is home", "NW1 6XE", "[postcode]"),
        ("it's sw1a 1aa", "sw1a 1aa", "[postcode]"),
        ("Springfield IL 62704 is home", "62704", "[postcode]"),
        ("zip code 90210 is home", "90210", "[postcode]"),
        ("ZIP+4 10001-1234 is home", "10001-1234", "[postcode]"),
        ("Ottawa K1A 0B1 is home", "K1A 0B1", "[postcode]"),
        ("DOB: 03/05/1990 yes", "03/05/1990", "[date]"),
        ("on 1990-05-03 yes", "1990-05-03", "[date]"),
        ("I was born on 3rd of May 1990 yes", "3rd of May 1990", "[date]"),
        ("since May 3, 1990 yes", "May 3, 1990", "[date]"),
        ("I was born on 3 May, so", "3 May", "[date]"),
    ],
)
def test_identifiers_are_masked(text: str, hidden: str, tag: str) -> None:
    masked = mask_identifiers(text)
    assert hidden not in masked
    assert tag in masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is Sarah Jones.", "My name is [name]."),
        ("my name is sam and I'm tired", "my name is [name] and I'm tired"),
        ("I'm called Ali.", "I'm called [name]."),
        ("Everyone calls me Bob.", "Everyone calls me [name]."),
        ("My boss Sarah said I was lazy.", "My boss [name] said I was lazy."),
        ("my best friend, Priya, left.", "my best friend, [name], left."),
        ("Tom, my brother, agrees.", "[name], my brother, agrees."),
        ("Dr Patel said so.", "Dr [name] said so."),
    ],
)
def test_signalled_names_are_masked(text: str, expected: str) -> None:
    assert mask_identifiers(text) == expected


def test_a_signalled_name_is_masked_everywhere_in_the_text() -> None:
    masked = mask_identifiers("My boss Sarah shouted. Later Sarah said sorry.")
    assert "Sarah" not in masked
    assert masked.count("[name]") == 2


@pytest.mark.parametrize(
    "text",
    [
        "anxious 70, sad 40",
        "40 30 20 10",
        "It was 2019 - 2020 and I slept 8 hours.",
        "Yesterday, my boss shouted at me in the meeting.",
        "My name is not important.",
        "I walked 3 times around the park with my friend.",
        "I felt like a failure because I missed the deadline at 5pm.",
    ],
)
def test_ordinary_answers_are_left_alone(text: str) -> None:
    assert mask_identifiers(text) == text


def test_numbered_masker_reuses_tags_across_texts_and_restores_them() -> None:
    masker = IdentifierMasker(numbered=True)
    first = masker.mask("My boss Sarah emailed me from sarah@example.com")
    second = masker.mask("Sarah was angry; call 07700 900123")
    assert first == "My boss [name 1] emailed me from [email 1]"
    assert second == "[name 1] was angry; call [phone 1]"
    assert masker.restore("So [name 1] wrote from [email 1]? [name 9]") == (
        "So Sarah wrote from sarah@example.com? [name 9]"
    )
    assert masker.restore("[name 1]", quote=str.upper) == "SARAH"


def test_tag_pattern_matches_plain_and_numbered_tags() -> None:
    assert TAG_PATTERN.fullmatch("[name]")
    assert TAG_PATTERN.fullmatch("[phone 12]")
    assert not TAG_PATTERN.fullmatch("[feeling 1]")


@pytest.mark.parametrize(
    "chunk",
    ["a", "a@", "+1", "1 ", "my boss ", "Sarah, ", "1.a", "a.", "12 Aa ", "+123456789012345678x"],
)
def test_100_kb_of_awkward_input_is_masked(chunk: str) -> None:
    text = chunk * (100_000 // len(chunk))
    masked = mask_identifiers(text)
    assert isinstance(masked, str)
    assert len(masked) <= len(text) + 100_000
