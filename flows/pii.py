"""Mask obvious identifiers in the patient's words before any of it goes to an external LLM.

E-mail addresses, URLs, phone numbers, full dates (dates of birth), postcodes and ZIP codes,
street addresses and personal names the text signals ("my name is X", "my boss Sarah",
"Dr Patel") become tags such as `[email]` or `[name]`. Every pattern uses bounded
quantifiers over disjoint character classes, so masking is linear in the input (100 kB is
fine). Masking errs on the side of hiding: a false positive costs a little wording, a miss
leaks an identifier.

`IdentifierMasker(numbered=True)` numbers the tags (`[name 1]`) and remembers the originals,
so text an LLM writes about the masked words can be restored locally before the patient
sees it; the originals never leave the process.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

__all__ = ["TAG_PATTERN", "IdentifierMasker", "mask_identifiers"]

_KINDS = ("email", "url", "phone", "address", "postcode", "date", "name")
#: Any tag this module writes, numbered or not: `[name]`, `[phone 2]`.
TAG_PATTERN = re.compile(r"\[(" + "|".join(_KINDS) + r")(?: (\d{1,4}))?\]")

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}"
)
_TLDS = r"(?:com|org|net|edu|gov|io|co|uk|us|de|fr|es|it|nl|eu|info|me|app|dev|ly|tv)"
_URL = re.compile(
    r"(?i:\b(?:https?://|www\.)[^\s<>\"'()\[\]]{1,2048}"
    r"|\b(?:[a-z0-9-]{1,63}\.){1,5}" + _TLDS + r"\b(?:/[^\s<>\"'()\[\]]{0,2048})?)"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DATE = re.compile(
    r"(?i:\b\d{4}-\d{1,2}-\d{1,2}\b"  # 1990-05-03
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b"  # 03/05/1990, 3.5.90
    rf"|\b{_DAY}(?: of)? {_MONTH}\.?,? \d{{4}}\b"  # 3rd of May 1990
    rf"|\b{_MONTH}\.? {_DAY},? \d{{4}}\b"  # May 3, 1990
    rf"|\b(?:born on|birthday is|dob:?|date of birth:?) (?:{_DAY}(?: of)? {_MONTH}|{_MONTH} {_DAY})(?:,? \d{{4}})?\b)"
)
_SEP = r"[ .-]?"
_INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\d[\d .()-]{5,22}\d\b")  # +44 (0)20 7946 0958
_PHONE = re.compile(
    r"(?<!\w)\(\d{2,5}\) ?\d{3,4}[ .-]?\d{3,4}\b"  # (555) 123-4567
    rf"|\b0\d{{2,4}}{_SEP}\d{{3,4}}{_SEP}\d{{3,4}}\b"  # 07700 900123, 020 7946 0958
    r"|\b\d{3}[ .-]\d{3}[ .-]\d{4}\b"  # 555-123-4567
    r"|\b\d{9,15}\b"  # 0612345678, 5551234567
)
_POSTCODE = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b"  # UK: SW1A 1AA
    r"|(?i:\b[a-z]{1,2}\d[a-z\d]? \d[abd-hjlnp-uw-z]{2}\b)"  # UK, typed in lower case
    r"|(?i:\b[abceghj-nprstvxy]\d[a-z] ?\d[a-z]\d\b)"  # Canada: K1A 0B1
    r"|\b\d{5}-\d{4}\b"  # ZIP+4
    r"|(?<=\b[A-Z]{2} )\d{5}\b"  # ZIP after a state: NY 10001
    r"|(?i:(?<=zip )|(?<=zip code )|(?<=postcode )|(?<=postal code ))[A-Z\d]{3,5}(?: ?[A-Z\d]{3,4})?\b"
)
_STREET_TYPES = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Court|Ct|Place|Pl|Boulevard"
    r"|Blvd|Crescent|Cres|Terrace|Gardens|Square|Sq|Grove|Hill|Park|Row|Mews|Walk|Parade)"
)
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,? (?:[A-Z][\w'-]{{0,30}} ){{0,3}}{_STREET_TYPES}\b\.?"
    r"|(?i:\b\d{1,5}[a-z]?,? (?:[a-z][\w'-]{0,30} ){1,3}"
    r"(?:street|road|avenue|lane|drive|boulevard|crescent|terrace)\b)"
)
_NAME_WORD = r"[A-Z][a-z'’-]{1,30}"
_NOT_A_NAME = (
    r"(?!(?:I|A|And|But|Or|So|The|Then|Now|Well|Also|Anyway|Honestly|Yesterday|Today|Tonight"
    r"|Tomorrow|Sometimes|Later|Earlier|Last|Next|This|That|It|He|She|They|We|You|Is|Was|Who"
    r"|When|Why|What|Because|If|Maybe|Apparently|Obviously|Basically|Actually|Please|Thanks)\b)"
)
_FULL_NAME = rf"{_NOT_A_NAME}{_NAME_WORD}(?: {_NOT_A_NAME}{_NAME_WORD}){{0,2}}"
_RELATIONS = (
    r"boss|manager|supervisor|wife|husband|partner|boyfriend|girlfriend|fianc[eé]e?|ex|friend"
    r"|best friend|mum|mom|mother|dad|father|brother|sister|son|daughter|child|kid|baby|cousin"
    r"|aunt|uncle|nan|gran|grandma|grandmother|grandpa|grandfather|colleague|coworker|co-worker"
    r"|teacher|tutor|therapist|doctor|gp|nurse|neighbour|neighbor|flatmate|roommate|housemate"
    r"|landlord|landlady|coach|pastor|priest"
)
_NOT_NAMES = r"(?!(?:not|a|an|the|so|very|just|really|too|feeling|going|trying|afraid|sorry)\b)"
_NAME_AFTER_PHRASE = re.compile(  # the phrase says a name follows, so case does not matter
    r"(?i:\b(?:my name is|my name's|name's|i['’]m called|i am called|my name:)) "
    + _NOT_NAMES
    + r"(?P<name>(?i:[a-z][a-z'’-]{1,30})(?: "
    + _NOT_A_NAME
    + _NAME_WORD
    + r"){0,2})"
)
_NAME_AFTER_CALL = re.compile(
    r"(?i:\b(?:call me|calls me|known as|goes by|named|called)) (?P<name>" + _FULL_NAME + r")\b"
)
_NAME_AFTER_RELATION = re.compile(
    r"(?i:\b(?:my|our|his|her|their|your) (?:"
    + _RELATIONS
    + r")),? (?P<name>"
    + _FULL_NAME
    + r")\b"
)
_NAME_BEFORE_RELATION = re.compile(
    r"\b(?P<name>" + _FULL_NAME + r"), (?i:(?:my|our|his|her|their) (?:" + _RELATIONS + r"))\b"
)
_NAME_AFTER_TITLE = re.compile(
    r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Doctor|Professor)\.? (?P<name>" + _FULL_NAME + r")\b"
)
_NAME_PATTERNS = (
    _NAME_AFTER_PHRASE,
    _NAME_AFTER_CALL,
    _NAME_AFTER_RELATION,
    _NAME_BEFORE_RELATION,
    _NAME_AFTER_TITLE,
)
_WHOLE_MATCH = (
    ("email", _EMAIL),
    ("url", _URL),
    ("date", _DATE),
    ("phone", _PHONE),
    ("postcode", _POSTCODE),
    ("address", _ADDRESS),
)


class IdentifierMasker:
    """Mask identifiers in one or more texts, optionally numbering tags so they can be restored.

    The same original always gets the same tag within one masker, so a name masked in the
    step text and in the patient's answer reads `[name 1]` in both.
    """

    def __init__(self, *, numbered: bool = False) -> None:
        """Create a masker; `numbered=True` writes `[name 1]` and remembers the originals."""
        self._numbered = numbered
        self._tags: dict[tuple[str, str], str] = {}
        self._originals: dict[str, str] = {}
        self._names: set[str] = set()

    @property
    def originals(self) -> dict[str, str]:
        """Return the numbered tags written so far and the text each replaced."""
        return dict(self._originals)

    def mask(self, text: str) -> str:
        """Return `text` with every identifier found replaced by its tag."""
        text = _INTERNATIONAL_PHONE.sub(self._mask_phone, text)
        for kind, pattern in _WHOLE_MATCH:
            text = pattern.sub(partial(self._mask_whole, kind), text)
        for pattern in _NAME_PATTERNS:
            text = pattern.sub(self._mask_name, text)
        if self._names:  # the same names elsewhere, where nothing signalled them
            alternatives = "|".join(
                re.escape(n) for n in sorted(self._names, key=len, reverse=True)
            )
            text = re.sub(rf"\b(?:{alternatives})\b", lambda m: self._tag("name", m.group(0)), text)
        return text

    def restore(self, text: str, *, quote: Callable[[str], str] = str) -> str:
        """Put the originals back for numbered tags this masker wrote; leave other text alone."""

        def put_back(match: re.Match[str]) -> str:
            original = self._originals.get(match.group(0))
            return match.group(0) if original is None else quote(original)

        return TAG_PATTERN.sub(put_back, text)

    def _mask_whole(self, kind: str, match: re.Match[str]) -> str:
        return self._tag(kind, match.group(0))

    def _mask_phone(self, match: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in match.group(0))
        return self._tag("phone", match.group(0)) if 7 <= digits <= 15 else match.group(0)

    def _mask_name(self, match: re.Match[str]) -> str:
        name = match.group("name")
        self._names.update(name.split(" ") if " " in name else (name,))
        start, end = match.span("name")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + self._tag("name", name) + whole[end - offset :]

    def _tag(self, kind: str, original: str) -> str:
        if not self._numbered:
            return f"[{kind}]"
        key = (kind, original.casefold())
        if key not in self._tags:
            number = sum(1 for k in self._tags if k[0] == kind) + 1
            self._tags[key] = f"[{kind} {number}]"
            self._originals[self._tags[key]] = original
        return self._tags[key]


def mask_identifiers(text: str) -> str:
    """Return `text` with e-mails, URLs, phones, dates, postcodes, addresses and names masked."""
    return IdentifierMasker().mask(text)
