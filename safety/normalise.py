"""Normalise patient text so the risk rules see one spelling of each risky phrase.

The screen matches compiled patterns against lower-case ASCII-ish text. People write the same
thing many ways: full-width or "fancy" Unicode letters, curly apostrophes, zero-width joiners,
leetspeak ("k1ll"), letters spaced out to dodge filters ("d i e"), community slang ("kms",
"unalive", "sewerslide") and common misspellings ("suicde"). `normalise` folds all of these into
plain words. Every step is a single regex pass or a character map, so the cost is linear in the
length of the input (no backtracking-prone patterns).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise"]

# Typographic quotes and look-alike apostrophes -> ASCII.
_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u00b4": "'", "\u0060": "'", "\uff07": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"',
    "\u00bb": '"', "\uff02": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
}

# Cyrillic and Greek letters that look like Latin ones (NFKC leaves these alone).
_CONFUSABLES = {
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u04cf": "l", "\u0501": "d",
    "\u043a": "k", "\u043c": "m", "\u0442": "t", "\u043d": "h", "\u0432": "b",
    "\u03b1": "a", "\u03b5": "e", "\u03bf": "o", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v",
    "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x",
}

_LOOKALIKES = {**_QUOTES, **_CONFUSABLES}
_LOOKALIKE_RE = re.compile("[" + "".join(_LOOKALIKES) + "]")

# Leetspeak digits and symbols inside words.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l"})
# Anchored at token starts so a failed attempt never rescans the same token (linear time).
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@$!|])[a-z0-9@$!|]*[0-9@$!|][a-z0-9@$!|]*")
_HAS_LETTER = re.compile(r"[a-z]")
# Numbers with a unit or ordinal ("20mg", "4pm", "1st") are not leetspeak.
_NUMBER_WITH_UNIT = re.compile(r"\d+(?:[.,]\d+)?[a-z]{0,3}")

# Runs of three or more single letters separated by one space, dot, dash or underscore.
_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?:[ .\-_*][a-z]){2,}(?![a-z0-9])")
_SPACED_SEPARATORS = re.compile(r"[ .\-_*]")

# Letters stretched for emphasis ("diiiie") -> at most two in a row.
_STRETCH = re.compile(r"([a-z])\1{2,}")

_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+")
# Whitespace and control characters (and U+FFFD from undecodable bytes) become one space.
_SPACES = re.compile(
    r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufffd]+"
)

# Slang, euphemisms, joined-up words and misspellings (whole words only).
_SLANG: dict[str, str] = {
    "kms": "kill myself",
    "kys": "kill yourself",
    "killmyself": "kill myself",
    "kilmyself": "kill myself",
    "endmylife": "end my life",
    "wanttodie": "want to die",
    "iwanttodie": "i want to die",
    "unalive myself": "kill myself",
    "unaliving myself": "killing myself",
    "unalived myself": "killed myself",
    "be unalive": "be dead",
    "unalive": "kill",
    "unaliving": "killing",
    "unalived": "killed",
    "sewerslide": "suicide",
    "sewer slide": "suicide",
    "sewer-slide": "suicide",
    "suicde": "suicide",
    "sucide": "suicide",
    "suicid": "suicide",
    "suiside": "suicide",
    "suicied": "suicide",
    "sucicide": "suicide",
    "suiscide": "suicide",
    "suacide": "suicide",
    "sucidal": "suicidal",
    "suicdal": "suicidal",
    "sucdial": "suicidal",
    "suicidel": "suicidal",
    "suisidal": "suicidal",
    "suidical": "suicidal",
    "ctb": "suicide",
    "catch the bus": "suicide",
    "selfharm": "self harm",
    "self-harm": "self harm",
    "selfharming": "self harming",
    "self-harming": "self harming",
    "self-harmed": "self harmed",
    "selfharmed": "self harmed",
    "wanna": "want to",
    "gonna": "going to",
    "wanted ta": "wanted to",
    "od'd": "overdosed",
    "oded": "overdosed",
    "od'ed": "overdosed",
    "overdossed": "overdosed",
    "overdoes": "overdose",
}
_SLANG_RE = re.compile(
    r"(?<![a-z0-9'])(?:" + "|".join(re.escape(k) for k in sorted(_SLANG, key=len, reverse=True))
    + r")(?![a-z0-9])"
)


def _undo_leet(match: re.Match[str]) -> str:
    token = match.group(0)
    if not _HAS_LETTER.search(token) or _NUMBER_WITH_UNIT.fullmatch(token):
        return token
    body = token.rstrip("!|$@")  # trailing "!" is punctuation, not an "i"
    return body.translate(_LEET) + token[len(body):]


def _join_spaced(match: re.Match[str]) -> str:
    return _SPACED_SEPARATORS.sub("", match.group(0))


def normalise(text: str) -> str:
    """Fold text into the plain lower-case form the risk rules are written against.

    Steps: Unicode NFKC, case folding, typographic quotes and look-alike letters to ASCII,
    control and zero-width characters removed, whitespace collapsed to single spaces,
    leetspeak undone inside words ("k1ll" -> "kill"), spaced-out letters joined ("d i e" ->
    "die"), stretched letters shortened, and slang, euphemisms and misspellings expanded
    ("kms" -> "kill myself", "sewerslide" -> "suicide").

    Args:
        text: Any text, including junk such as NUL bytes or replacement characters.

    Returns:
        The normalised text, stripped of leading and trailing spaces. Linear time.
    """
    if text.isascii():  # ASCII is already NFKC and has no look-alikes but the backtick
        folded = text.lower().replace("`", "'")
    else:
        folded = unicodedata.normalize("NFKC", text).casefold()
        folded = _LOOKALIKE_RE.sub(lambda m: _LOOKALIKES[m.group(0)], folded)
        folded = _INVISIBLE.sub("", folded)
    folded = _SPACES.sub(" ", folded)
    folded = _LEET_TOKEN.sub(_undo_leet, folded)
    folded = _SPACED.sub(_join_spaced, folded)
    folded = _STRETCH.sub(r"\1\1", folded)
    folded = _SLANG_RE.sub(lambda m: _SLANG[m.group(0)], folded)
    return folded.strip()
