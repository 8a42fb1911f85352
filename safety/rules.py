"""Load and compile the risk-screen rules from `safety/data/rules.yaml` and `rules.<lang>.yaml`.

Rules are data so reviewers can read them without reading the engine: each has a stable id, a
tier, a category and regex alternatives written against normalised text. English rules live in
`rules.yaml`; each other language has its own file (`rules.es.yaml`, ...) with the same schema,
a `language` key and rule ids prefixed by that language ("es.si.active"). Every file is loaded
and every message is matched against all of them: a patient's locale does not say which
language they write in. This module only validates and compiles the rules (once, on first use);
`safety.screen` applies them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from safety.paths import SAFETY_DATA
from safety.types import Category, Tier

__all__ = [
    "RULES_FILE",
    "Escalator",
    "Rule",
    "RuleSet",
    "load_rule_file",
    "load_rules",
    "parse_rules",
    "rare_grams",
    "required_words",
    "rule_files",
    "with_start_check",
]

RULES_FILE = SAFETY_DATA / "rules.yaml"
_LANGUAGE_FILE = re.compile(r"^rules\.([a-z]{2,3})\.yaml$")
_MACRO = re.compile(r"%([A-Z_]+)%")
_MIN_ATOM = 3  # shorter literals say too little to be worth checking
# Literals found in almost any English message: a required set made of them skips nothing, so
# another required set of the same pattern is preferred (see `_atoms`).
_COMMON = frozenset(
    "to my the and of for me it that her him them his she he you your i'm im i've was is are "
    "be been not no but all one day end time if i how why what who when will can out off up "
    "down on in at so just get got take took have had has do did ever own self ing ed er".split()
)


def _strength(atoms: set[str]) -> tuple[int, int]:
    weakest = min((0 if a.strip(" '") in _COMMON else len(a.strip())) for a in atoms)
    return weakest, -len(atoms)


def _atoms(items: Sequence[Any]) -> set[str] | None:
    """Literals of which every match of a parsed regex sequence contains at least one, or None.

    Walks the parsed pattern (`re._parser`): a run of literal characters is required; a group
    passes on its own set; an alternation is the union of its branches' sets (None if any branch
    has none); a repeat with a minimum of one or more passes on its body's set; anything
    optional, a class, a lookaround or an anchor requires nothing. Of the required sets the one
    whose weakest literal is least common (`_strength`) is kept.
    """
    candidates: list[set[str]] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= _MIN_ATOM:
            candidates.append({"".join(run)})
        run.clear()

    for op, arg in items:
        if op is _sre.LITERAL:
            run.append(chr(arg))
            continue
        flush()
        if op is _sre.SUBPATTERN:
            found = _atoms(arg[-1])
        elif op is _sre.BRANCH:
            union: set[str] | None = set()
            for branch in arg[1]:
                sub = _atoms(branch)
                if sub is None:
                    union = None
                    break
                union |= sub  # type: ignore[operator]
            found = union
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and arg[0] >= 1:
            found = _atoms(arg[2])
        else:
            found = None
        if found:
            candidates.append(found)
    flush()
    if not candidates:
        return None
    return max(candidates, key=_strength)


class _AnyChar(Exception):
    """A pattern can start with too many characters to be worth a start check."""


_SPACE_CHARS = frozenset(" \t\n\r\f\v")
_DIGIT_CHARS = frozenset("0123456789")


def _first_of_sequence(items: Sequence[Any]) -> tuple[set[str], bool]:
    """The characters a match of a parsed sequence can start with, and whether it can be empty."""
    out: set[str] = set()
    for op, arg in items:
        chars, nullable = _first_of(op, arg)
        out |= chars
        if not nullable:
            return out, False
    return out, True


def _first_of(op: Any, arg: Any) -> tuple[set[str], bool]:
    if op is _sre.LITERAL:
        return {chr(arg)}, False
    if op is _sre.IN:
        chars: set[str] = set()
        for item_op, item in arg:
            if item_op is _sre.LITERAL:
                chars.add(chr(item))
            elif item_op is _sre.RANGE:
                chars |= {chr(c) for c in range(item[0], item[1] + 1)}
            elif item_op is _sre.CATEGORY and item is _sre.CATEGORY_SPACE:
                chars |= _SPACE_CHARS
            elif item_op is _sre.CATEGORY and item is _sre.CATEGORY_DIGIT:
                chars |= _DIGIT_CHARS
            else:  # a negated class, \w, ...
                raise _AnyChar
        return chars, False
    if op is _sre.CATEGORY and arg is _sre.CATEGORY_SPACE:
        return set(_SPACE_CHARS), False
    if op is _sre.CATEGORY and arg is _sre.CATEGORY_DIGIT:
        return set(_DIGIT_CHARS), False
    if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):  # zero width: look past it
        return set(), True
    if op is _sre.SUBPATTERN:
        return _first_of_sequence(arg[-1])
    if op is _sre.BRANCH:
        chars, nullable = set(), False
        for branch in arg[1]:
            branch_chars, branch_nullable = _first_of_sequence(branch)
            chars |= branch_chars
            nullable = nullable or branch_nullable
        return chars, nullable
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        chars, nullable = _first_of_sequence(arg[2])
        return chars, nullable or arg[0] == 0
    raise _AnyChar


def with_start_check(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern behind a lookahead for the characters a match can start with.

    Python's regex engine only skips ahead quickly when a pattern starts with a plain literal;
    rule patterns start with `\\b`, optional words or groups, so every position of every sentence
    was tried against every alternative. `(?=[chars])` rejects most positions first. Matches
    (and their spans) are unchanged; a pattern whose start cannot be bounded is returned as is.
    """
    if pattern.flags & re.IGNORECASE:
        return pattern
    try:
        chars, nullable = _first_of_sequence(list(_sre_parse.parse(pattern.pattern, pattern.flags)))
    except _AnyChar:
        return pattern
    if nullable or not chars or len(chars) > 40:
        return pattern
    start = "".join(re.escape(c) for c in sorted(chars))
    return re.compile(f"(?=[{start}])(?:{pattern.pattern})", pattern.flags)


# English letters from most to least common: a literal's rarest three-letter piece says most.
_LETTER_RANK = {c: i for i, c in enumerate(" etaoinshrdlcumwfgypbvkjxqz")}


def rare_grams(words: tuple[str, ...] | None) -> frozenset[str] | None:
    """One four-character piece of each word (three for a three-letter word), of the rarest letters.

    Any text that contains one of the words contains that word's piece, so a text with none of
    the pieces cannot contain any of the words (the converse does not hold: it is a pre-check).

    Args:
        words: Literals of at least three characters, as from `required_words`.

    Returns:
        The pieces, or None when `words` is None.
    """
    if words is None:
        return None
    grams = set()
    for word in words:
        size = 4 if len(word) >= 4 else 3
        pieces = [word[i : i + size] for i in range(len(word) - size + 1)]
        grams.add(max(pieces, key=lambda g: (sum(_LETTER_RANK.get(c, 30) for c in g), g)))
    return frozenset(grams)


def required_words(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literals of which any match of `pattern` contains one (a cheap test to skip a rule).

    Args:
        pattern: A compiled rule pattern (case-sensitive; rules match lower-cased text).

    Returns:
        The literals, shortest first with any that contain another dropped; None when no such
        set could be derived (the rule is then always tried).
    """
    if pattern.flags & re.IGNORECASE:
        return None
    found = _atoms(list(_sre_parse.parse(pattern.pattern, pattern.flags)))
    if not found:
        return None
    kept: list[str] = []
    for atom in sorted(found, key=lambda a: (len(a), a)):
        if not any(k in atom for k in kept):
            kept.append(atom)
    return tuple(kept)


class Rule(BaseModel):
    """One compiled rule: when `pattern` matches a sentence, emit a signal.

    `impersonal`: a generic subject ("someone", "a person", "people", "one") does not make the
    match about someone else. Method questions are often asked that way ("how long until someone
    finds you"), and asking is the risk.

    `hyperbole_tier`: the highest tier when the sentence reads as hyperbole (a laughing marker
    such as "lol" or a skull emoji, or "going to kill myself if ..." with a trivial cause such as
    homework or a test); see `safety.screen`. Such idioms still get the screening questions.

    `gate` is shared by every rule of a language file: a sentence in which it finds nothing
    (no word of that language's risk vocabulary) skips all of that file's rules, so rules for
    other languages cost one cheap search per sentence instead of one per rule.

    `needs` (and `gate_needs` for the gate) are derived from the patterns when compiled: literal
    strings of which every match contains at least one. `needs_grams` (`gate_grams`) holds one
    three- or four-character piece of each: a sentence without any of them cannot match, so the rule is
    skipped there without running its regex (most sentences of a long post are skipped this
    way; see `safety.screen`). None means "always try".
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    tier: Tier
    category: Category
    pattern: re.Pattern[str]
    negatable: bool = True
    self_directed: bool = True
    impersonal: bool = False
    unless: re.Pattern[str] | None = None
    recent_tier: Tier | None = None
    history_tier: Tier | None = None
    history_category: Category | None = None
    hyperbole_tier: Tier | None = None
    gate: re.Pattern[str] | None = None
    needs: tuple[str, ...] | None = None
    gate_needs: tuple[str, ...] | None = None
    needs_grams: frozenset[str] | None = None
    gate_grams: frozenset[str] | None = None


class Escalator(BaseModel):
    """Raise a message to `tier` when it has a signal in `categories` and matches `pattern`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    tier: Tier
    category: Category
    categories: frozenset[Category] = Field(default_factory=frozenset)
    min_tier: Tier = Tier.ACTIVE
    pattern: re.Pattern[str]


class RuleSet(BaseModel):
    """All rules and escalators, with the version of the rule file(s) they came from."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    rules: tuple[Rule, ...]
    escalators: tuple[Escalator, ...]
    languages: tuple[str, ...] = ("en",)


def _expand(text: str, macros: dict[str, str], *, where: str) -> str:
    for _ in range(5):  # macros may use macros; five levels is plenty
        if not _MACRO.search(text):
            return text
        try:
            text = _MACRO.sub(lambda m: macros[m.group(1)], text)
        except KeyError as exc:
            raise ValueError(f"{where}: unknown macro %{exc.args[0]}% (define it under 'macros')") from exc
    raise ValueError(f"{where}: macros nest too deeply")


def _compile(text: str, macros: dict[str, str], *, where: str) -> re.Pattern[str]:
    expanded = _expand(text, macros, where=where)
    try:
        return re.compile(expanded)
    except re.error as exc:
        raise ValueError(f"{where}: invalid regex ({exc})") from exc


def _alternatives(block: str, macros: dict[str, str], *, where: str, prefix: str = "") -> re.Pattern[str]:
    lines = [ln.strip() for ln in block.splitlines()]
    alts = [ln for ln in lines if ln and not ln.startswith("#")]
    if not alts:
        raise ValueError(f"{where}: 'patterns' is empty")
    for i, alt in enumerate(alts):  # compile one by one so an error names its line
        _compile(prefix + alt, macros, where=f"{where} pattern {i + 1}")
    # The prefix (e.g. a negation guard) is written once in front of the whole alternation, so
    # it is tried once per position rather than once per alternative.
    return with_start_check(
        _compile(prefix + "(?:" + "|".join(f"(?:{a})" for a in alts) + ")", macros, where=where))


def _rule(raw: dict[str, Any], macros: dict[str, str], gate: re.Pattern[str] | None = None) -> Rule:
    where = f"rule {raw.get('id', '?')}"
    unless = raw.get("unless")
    pattern = _alternatives(raw["patterns"], macros, where=where, prefix=str(raw.get("prefix", "")))
    return Rule(
        id=raw["id"],
        tier=Tier(raw["tier"]),
        category=Category(raw["category"]),
        pattern=pattern,
        negatable=raw.get("negatable", True),
        self_directed=raw.get("self_directed", True),
        impersonal=raw.get("impersonal", False),
        unless=_compile(unless, macros, where=f"{where} unless") if unless else None,
        recent_tier=raw.get("recent_tier"),
        history_tier=raw.get("history_tier"),
        history_category=raw.get("history_category"),
        hyperbole_tier=raw.get("hyperbole_tier"),
        gate=gate,
        needs=(needs := required_words(pattern)),
        gate_needs=(gate_needs := required_words(gate) if gate is not None else None),
        needs_grams=rare_grams(needs),
        gate_grams=rare_grams(gate_needs),
    )


def _escalator(raw: dict[str, Any], macros: dict[str, str]) -> Escalator:
    return Escalator(
        id=raw["id"],
        tier=Tier(raw["tier"]),
        category=Category(raw["category"]),
        categories=frozenset(Category(c) for c in raw.get("categories", [])),
        min_tier=Tier(raw.get("min_tier", Tier.ACTIVE)),
        pattern=_compile(raw["pattern"], macros, where=f"escalator {raw['id']}"),
    )


def _check_unique(ids: list[str], *, where: str) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate rule ids {duplicates}")


def parse_rules(data: dict[str, Any]) -> RuleSet:
    """Validate and compile a parsed rule file.

    Args:
        data: The mapping read from a rules YAML file. `language` defaults to "en"; in any
            other language every rule and escalator id must start with "<language>.".
            `defaults` may set `negatable`, `self_directed` and `prefix` (a regex put once in
            front of every rule's alternatives, such as a negation guard) for the whole file.
            `requires` is a regex every sentence must contain before any rule of the file is
            tried (the rules' shared `gate`).

    Returns:
        The compiled rule set.

    Raises:
        ValueError: A rule is malformed, a macro is unknown, a regex does not compile, an id
            is repeated or lacks its language prefix.
    """
    macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
    language = str(data.get("language", "en"))
    defaults = dict(data.get("defaults") or {})
    unknown = sorted(set(defaults) - {"negatable", "self_directed", "prefix"})
    if unknown:
        raise ValueError(f"rules file: 'defaults' may set negatable, self_directed and prefix, not {unknown}")
    requires = data.get("requires")
    gate = _compile(str(requires), macros, where="requires") if requires else None
    rules = tuple(_rule(defaults | r, macros, gate) for r in data["rules"])
    escalators = tuple(_escalator(e, macros) for e in data.get("escalators") or [])
    ids = [r.id for r in rules] + [e.id for e in escalators]
    _check_unique(ids, where="rules file")
    if language != "en":
        unprefixed = [i for i in ids if not i.startswith(f"{language}.")]
        if unprefixed:
            raise ValueError(f"rules file ({language}): ids {unprefixed} must start with '{language}.'")
    return RuleSet(id=str(data["id"]), version=str(data["version"]), rules=rules,
                   escalators=escalators, languages=(language,))


def rule_files(folder: Path = SAFETY_DATA) -> list[Path]:
    """List the shipped rule files: English `rules.yaml` first, then `rules.<lang>.yaml` sorted.

    Args:
        folder: The folder holding the rule files.

    Returns:
        The paths, English first.
    """
    others = sorted(p for p in folder.glob("rules.*.yaml") if _LANGUAGE_FILE.match(p.name))
    return [folder / "rules.yaml", *others]


@cache
def load_rule_file(path: Path) -> RuleSet:
    """Read, validate and compile one rule file once per process.

    Args:
        path: A rules YAML file.

    Returns:
        The compiled rule set of that file.

    Raises:
        ValueError: The file is invalid; the message names the file.
    """
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    try:
        return parse_rules(data)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{path.name}: {exc}") from exc


@cache
def load_rules(path: Path | None = None) -> RuleSet:
    """Load every shipped rule file (or one file) as a single rule set, once per process.

    Args:
        path: One rules YAML file to load alone; by default all files from `rule_files()`,
            merged in that order.

    Returns:
        The compiled rule set. Its version names each file's version, e.g.
        "0.2.0+de-0.1.0+es-0.1.0".

    Raises:
        ValueError: A file is invalid or two files share a rule id.
    """
    if path is not None:
        return load_rule_file(path)
    sets = [load_rule_file(p) for p in rule_files()]
    rules = tuple(r for rs in sets for r in rs.rules)
    escalators = tuple(e for rs in sets for e in rs.escalators)
    _check_unique([r.id for r in rules] + [e.id for e in escalators], where="rule files")
    version = "+".join([sets[0].version, *(f"{rs.languages[0]}-{rs.version}" for rs in sets[1:])])
    languages = tuple(lang for rs in sets for lang in rs.languages)
    return RuleSet(id=sets[0].id, version=version, rules=rules, escalators=escalators,
                   languages=languages)
