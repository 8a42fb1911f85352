"""Normalisation: Unicode folding, leetspeak, spaced letters, slang, junk, and linear cost."""

from __future__ import annotations

import random

import pytest

from safety.normalise import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I’M  Fine", "i'm fine"),
        ("“quoted”", '"quoted"'),
        ("ＫＩＬＬ ＭＹＳＥＬＦ", "kill myself"),  # full-width
        ("𝐝𝐢𝐞", "die"),  # mathematical bold
        ("dіe", "die"),  # Cyrillic і
        ("k\u200bill", "kill"),  # zero-width space
        ("ab\tcd\n\nef   gh", "ab cd ef gh"),
        ("k1ll mys3lf", "kill myself"),
        ("d13", "die"),
        ("$uicide", "suicide"),
        ("su1c1d3", "suicide"),
        ("d i e", "die"),
        ("s.u.i.c.i.d.e", "suicide"),
        ("k-i-l-l", "kill"),
        ("kms", "kill myself"),
        ("KYS", "kill yourself"),
        ("unalive myself", "kill myself"),
        ("sewerslide", "suicide"),
        ("sewer slide", "suicide"),
        ("ctb", "suicide"),
        ("suicde", "suicide"),
        ("sucide", "suicide"),
        ("sucidal", "suicidal"),
        ("self-harm", "self harm"),
        ("wanna", "want to"),
        ("dieeeee", "die"),  # stretched risk words come back whole
        ("kiiiilll myseeelf", "kill myself"),
        ("sooooo goooood", "soo good"),  # other stretched words keep two letters
        ("k\u2066ill", "kill"),  # bidi isolate
        ("k\u00adi\u034fll\ufe0f", "kill"),  # soft hyphen, grapheme joiner, variation selector
        ("ᴋɪʟʟ ᴍʏsᴇʟғ", "kill myself"),  # small capitals
        ("k̷i̷l̷l̷", "kill"),  # stacked combining marks
        ("Não quero morrer", "nao quero morrer"),  # accents are optional for matching
        ("Ich möchte STERBEN", "ich mochte sterben"),
        ("je me scarifie à nouveau", "je me scarifie a nouveau"),
        ("sœur", "soeur"),
        ("gonna kys", "going to kill myself"),  # self-directed kys
        ("i wanna kys", "i want to kill myself"),
        ("self-delete", "kill myself"),
        ("unalivemyself", "kill myself"),
        ("rn", "right now"),
        ("myslef", "myself"),
        ("suicidial", "suicidal"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize("text", ["I took 20mg at 4pm", "the 1st of May", "room 101", "help!"])
def test_numbers_and_punctuation_are_not_leetspeak(text: str) -> None:
    assert normalise(text) == text.lower()


def test_slang_only_matches_whole_words() -> None:
    assert normalise("kmsx and ctbs") == "kmsx and ctbs"


@pytest.mark.parametrize(
    "text",
    ["I need to catch the bus", "you should kys", "the game ended", "born to run", "turn left"],
)
def test_everyday_phrases_are_not_expanded(text: str) -> None:
    assert normalise(text) == text.lower().replace("kys", "kill yourself")


@pytest.mark.parametrize("junk", ["\x00\ufffd", "\ufffd" * 50, "\x00\x01\x02", "\u202e\u200f"])
def test_junk_normalises_to_nothing(junk: str) -> None:
    assert normalise(junk) == ""


def test_random_bytes_decoded_with_replacement() -> None:
    rng = random.Random(1234)
    junk = bytes(rng.getrandbits(8) for _ in range(5000)).decode("utf-8", errors="replace")
    out = normalise(junk)
    assert isinstance(out, str)
    assert "\ufffd" not in out and "\x00" not in out


@pytest.mark.parametrize(
    "big",
    [
        "I want to k1ll myself. " * 4500,  # about 100 kB of text
        "a" * 100_000,  # one enormous token
        "a " * 50_000,  # one enormous spaced-out run
        "a1" * 50_000,  # one enormous leetspeak token
        "kms " * 25_000,
        "ab" * 50_000,  # one enormous word with no stretched letters
        "é" * 100_000,  # one enormous run of accents
        "\u200b" * 100_000,
    ],
    ids=["sentences", "one-token", "spaced", "leet-token", "slang", "no-stretch", "accents", "invisible"],
)
def test_large_inputs_complete(big: str) -> None:
    # No wall-clock assertion (see benchmarks/); the patterns are written to be linear.
    assert isinstance(normalise(big), str)


def test_idempotent_on_plain_text() -> None:
    once = normalise("I’m s o tired of all this, k1ll me")
    assert normalise(once) == once
