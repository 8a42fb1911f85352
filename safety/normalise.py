"""Normalise patient text so the risk rules see one spelling of each risky phrase.

The screen matches compiled patterns against lower-case ASCII-ish text. People write the same
thing many ways: full-width or "fancy" Unicode letters, curly apostrophes, zero-width joiners and
bidi controls, accents typed or not ("não"/"nao"), leetspeak ("k1ll"), letters spaced out to
dodge filters ("d i e"), letters stretched for emphasis ("dieeee"), community slang ("kms",
"unalive", "sewerslide") and common misspellings ("suicde"). `normalise` folds all of these into
plain words. Its output is for matching only: it is never shown, stored or logged. Every step is a single regex pass or a character map, so the cost is linear in the
length of the input (no backtracking-prone patterns).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise", "split_run_together"]

# Typographic quotes and look-alike apostrophes -> ASCII.
_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u00b4": "'", "\u0060": "'", "\uff07": "'", "\u02b9": "'", "\u02bb": "'", "\u02bd": "'",
    "\u055a": "'", "\u05f3": "'", "\uff40": "'", "\u2035": "'", "\ua78c": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"',
    "\u00bb": '"', "\uff02": '"', "\u2039": '"', "\u203a": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2015": "-", "\u2e3a": "-", "\ufe58": "-",
}

# Letters NFKC leaves alone that look like Latin ones: Cyrillic, Greek, IPA and small capitals,
# and ligatures that diacritic stripping cannot split.
_CONFUSABLES = {
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u04cf": "l", "\u0501": "d",
    "\u043a": "k", "\u043c": "m", "\u0442": "t", "\u043d": "h", "\u0432": "b", "\u04bb": "h",
    "\u0491": "r", "\u051b": "q", "\u051d": "w", "\u0454": "e",
    "\u03b1": "a", "\u03b5": "e", "\u03bf": "o", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v",
    "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x", "\u03b2": "b", "\u03b7": "n",
    "\u0131": "i", "\u0251": "a", "\u0261": "g", "\u0269": "i", "\u028b": "u",
    "\u1d00": "a", "\u0299": "b", "\u1d04": "c", "\u1d05": "d", "\u1d07": "e", "\u0493": "f",
    "\u0262": "g", "\u029c": "h", "\u026a": "i", "\u1d0a": "j", "\u1d0b": "k", "\u029f": "l",
    "\u1d0d": "m", "\u0274": "n", "\u1d0f": "o", "\u1d18": "p", "\u0280": "r", "\ua731": "s",
    "\u1d1b": "t", "\u1d1c": "u", "\u1d20": "v", "\u1d21": "w", "\u028f": "y", "\u1d22": "z",
    "\u0153": "oe", "\u00e6": "ae", "\u00f8": "o", "\u0142": "l", "\u0111": "d", "\u00f0": "d",
}

_LOOKALIKES = {**_QUOTES, **_CONFUSABLES}
_LOOKALIKE_RE = re.compile("[" + "".join(_LOOKALIKES) + "]")

# Combining marks (accents, and the stacked marks of "zalgo" text). Stripped after NFD so that
# "está", "não", "müde" are matched as "esta", "nao", "mude": rules never need to spell accents.
_MARKS = re.compile("[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")

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

# A word with a letter stretched for emphasis ("dieeee", "kiiill"); anchored at word starts.
_STRETCHED_WORD = re.compile(r"(?<![a-z])[a-z]*?([a-z])\1{2,}[a-z]*")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_RUNS = re.compile(r"([a-z])\1+")
# Risk words recognised from their stretched spelling: "kiiiill" and "killll" -> "kill".
_STRETCH_WORDS = (
    "kill", "killing", "die", "dying", "dead", "death", "myself", "suicide", "suicidal", "end",
    "life", "want", "wanna", "please", "help", "cut", "cutting", "hurt", "harm", "pills",
    "overdose", "gone", "done", "tired", "alive", "live", "goodbye", "bye", "noose", "jump",
)
_SQUEEZED = {_RUNS.sub(r"\1", w): w for w in _STRETCH_WORDS}

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]+"
)
# Whitespace and control characters (and U+FFFD from undecodable bytes) become one space.
_SPACES = re.compile(
    r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufffd]+"
)

# Slang, euphemisms, joined-up words and misspellings (whole words only). "kys" alone stays
# "kill yourself" (often said *to* someone); said of oneself ("gonna kys") it is "kill myself".
# Phrases too common in everyday speech ("catch the bus", "game end") are only expanded in a
# self-directed form.
_SLANG: dict[str, str] = {
    "kms": "kill myself",
    "kys": "kill yourself",
    "want to kys": "want to kill myself",
    "wanna kys": "want to kill myself",
    "gonna kys": "going to kill myself",
    "going to kys": "going to kill myself",
    "about to kys": "about to kill myself",
    "ima kys": "i'm going to kill myself",
    "imma kys": "i'm going to kill myself",
    "finna kys": "going to kill myself",
    "i'll kys": "i'll kill myself",
    "might kys": "might kill myself",
    "i should kys": "i should kill myself",
    "killmyself": "kill myself",
    "kilmyself": "kill myself",
    "kil myself": "kill myself",
    "kill myslef": "kill myself",
    "kill mysefl": "kill myself",
    "kill mysef": "kill myself",
    "kill mysel": "kill myself",
    "kill my slef": "kill myself",
    "myslef": "myself",
    "mysefl": "myself",
    "endmylife": "end my life",
    "wanttodie": "want to die",
    "iwanttodie": "i want to die",
    "wannadie": "want to die",
    "iwannadie": "i want to die",
    "unalive myself": "kill myself",
    "unaliving myself": "killing myself",
    "unalived myself": "killed myself",
    "unalivemyself": "kill myself",
    "un alive myself": "kill myself",
    "be unalive": "be dead",
    "unalive": "kill",
    "unaliving": "killing",
    "unalived": "killed",
    "self delete": "kill myself",
    "self-delete": "kill myself",
    "selfdelete": "kill myself",
    "self deleting": "killing myself",
    "self-deleting": "killing myself",
    "off myself": "kill myself",
    "offing myself": "killing myself",
    "top myself": "kill myself",
    "topping myself": "killing myself",
    "neck myself": "kill myself",
    "necking myself": "killing myself",
    "end myself": "kill myself",
    "ending myself": "killing myself",
    "game end myself": "kill myself",
    "game ending myself": "killing myself",
    "game ended myself": "killed myself",
    "rope myself": "hang myself",
    "commit die": "kill myself",
    "sewerslide": "suicide",
    "sewer slide": "suicide",
    "sewer-slide": "suicide",
    "sewer slided": "killed myself",
    "suicde": "suicide",
    "sucide": "suicide",
    "suicid": "suicide",
    "suiside": "suicide",
    "suicied": "suicide",
    "sucicide": "suicide",
    "suiscide": "suicide",
    "suacide": "suicide",
    "suicie": "suicide",
    "suicidee": "suicide",
    "sucidal": "suicidal",
    "suicdal": "suicidal",
    "sucdial": "suicidal",
    "suicidel": "suicidal",
    "suisidal": "suicidal",
    "suidical": "suicidal",
    "suicidial": "suicidal",
    "sucidial": "suicidal",
    "suicidle": "suicidal",
    "ctb": "suicide",
    "catch the bus tonight": "suicide tonight",
    "ready to catch the bus": "ready to suicide",
    "selfharm": "self harm",
    "self-harm": "self harm",
    "selfharming": "self harming",
    "self-harming": "self harming",
    "self-harmed": "self harmed",
    "selfharmed": "self harmed",
    "self-injury": "self injury",
    "self-injuring": "self injuring",
    "self-inflicted": "self inflicted",
    "wanna": "want to",
    "gonna": "going to",
    "gunna": "going to",
    "finna": "going to",
    "wanted ta": "wanted to",
    "rn": "right now",
    "od'd": "overdosed",
    "oded": "overdosed",
    "od'ed": "overdosed",
    "overdossed": "overdosed",
    "overdoes": "overdose",
    "overdoesed": "overdosed",
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


def _unstretch(match: re.Match[str]) -> str:
    word = match.group(0)
    return _SQUEEZED.get(_RUNS.sub(r"\1", word)) or _STRETCH.sub(r"\1\1", word)


def normalise(text: str) -> str:
    """Fold text into the plain lower-case form the risk rules are written against.

    Steps: Unicode NFKC, case folding, zero-width, bidi and other invisible characters
    removed, accents and other combining marks stripped ("está" -> "esta"), typographic quotes
    and look-alike letters to ASCII, whitespace collapsed to single spaces, leetspeak undone
    inside words ("k1ll" -> "kill"), spaced-out letters joined ("d i e" -> "die"), stretched
    words shortened ("dieeee" -> "die", other runs to two letters), and slang, euphemisms and
    misspellings expanded ("kms" -> "kill myself", "sewerslide" -> "suicide").

    Args:
        text: Any text, including junk such as NUL bytes or replacement characters.

    Returns:
        The normalised text, stripped of leading and trailing spaces. Linear time.
    """
    if text.isascii():  # ASCII is already NFKC and has no look-alikes but the backtick
        folded = text.lower().replace("`", "'")
    else:
        folded = unicodedata.normalize("NFKC", text).casefold()
        folded = _INVISIBLE.sub("", folded)
        if not folded.isascii():
            folded = _MARKS.sub("", unicodedata.normalize("NFD", folded))
            folded = unicodedata.normalize("NFC", folded)
            folded = _LOOKALIKE_RE.sub(lambda m: _LOOKALIKES[m.group(0)], folded)
    folded = _SPACES.sub(" ", folded)
    folded = _LEET_TOKEN.sub(_undo_leet, folded)
    folded = _SPACED.sub(_join_spaced, folded)
    folded = _STRETCHED_WORD.sub(_unstretch, folded)
    folded = _SLANG_RE.sub(lambda m: _SLANG[m.group(0)], folded)
    return folded.strip()


# A lower-case letter straight before a capital that starts a word ("I want to dieI've tried")
# is two sentences run together (a post title glued to its body, a missing space after a full
# stop). Case is folded by `normalise`, so this runs on the raw text.
_RUN_TOGETHER = re.compile(r"(?<=[a-z])(?=[A-Z](?:[a-z']|\s|$))")


def split_run_together(text: str) -> str:
    """Put a line break where two sentences were typed without a space ("dieI've" -> "die\\nI've").

    Args:
        text: Raw text, before `normalise`.

    Returns:
        The text with a newline at each such join; everything else unchanged. Linear time.
    """
    return _RUN_TOGETHER.sub("\n", text)
