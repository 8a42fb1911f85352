"""Rule-based risk screen: one patient message (and its recent context) in, an `Assessment` out.

The text is normalised (`safety.normalise`), split into sentences, and every rule from
`safety/data/rules.yaml` is matched sentence by sentence. Each match is then judged in its
sentence: a close negation ("I would never kill myself") drops it; a third-person subject or a
fiction cue ("my friend said she wanted to die", "in the film...") demotes it to tier 1 with a
`.third_party` id; a hypothetical ("what if I...") caps it at tier 2; a time marker can move it
("tried to ... years ago" is history, not a recent attempt). Message-level escalators then add
timing or weapons ("... tonight"). `assess` wraps all of this and fails closed: any error is
returned as tier 2 with an `error.rules` signal, never as silence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from safety.normalise import normalise, split_run_together
from safety.rules import Rule, load_rules
from safety.types import Assessment, Category, Signal, Tier

__all__ = ["DETECTOR_VERSION", "assess", "screen_message", "wants_crisis_resources"]

DETECTOR_VERSION = "companion-rules-0.1.0"

_log = logging.getLogger(__name__)

_SENTENCES = re.compile(r"[.!?;\n]+|\s[-:]\s|\"")
_CLAUSE = re.compile(r",|\b(?:but|and|though|although|however|yet|so|because|cause|cuz|then|while)\b")
_WORD = re.compile(r"[a-z']+")
# How far before a match its sentence is read for negation, subject and hypotheticals.
_PREFIX_CHARS = 300
_NEGATORS = frozenset(
    "not never no don't dont doesn't doesnt didn't didnt won't wont wouldn't wouldnt isn't isnt "
    "wasn't wasnt aren't arent haven't havent hasn't hasnt hadn't hadnt shouldn't nor "
    "neither nothing".split()
)
# Words between a negator and the match that mean the negation is about something else.
# "I" starts a new clause of its own ("nothing :( i just want to die").
# So do its contractions: in "if nothing changes i'll end it" the negator belongs to the condition.
_NEW_CLAUSE = frozenset("i i'm im i'll i'd i've ive imma".split())
_NEGATION_BREAKERS = frozenset("know why if sure think mind care stop help understand".split()) | _NEW_CLAUSE
_FIRST_PERSON = frozenset("i i'm im i've ive i'd id i'll me my myself mine".split())
# A third-person word the speaker says they are ("i'm the kind of person who", "i am someone
# who") describes the speaker, so it does not make the match about someone else.
_SPEAKER_IS = re.compile(
    r"\b(?:i'?m|im|i am|i was|i'?ve (?:always )?been|ive (?:always )?been|i have (?:always )?been|"
    r"i'?ve become|i became|i feel like|i'?d be) (?:(?:the|a|an|one|of|those|type|kind|sort|such|just|"
    r"only|exactly|same|kinda|sorta|that|really|very|typical|real|little|young|sad|lonely|depressed|"
    r"broken|anxious|quiet|weird) )*$"
)
_SPEAKER_VERBS = frozenset("told tell asked ask showed show lied promised promise convinced".split())
# "has" right before a match has a third-person subject ("diana has committed suicide").
_THIRD_PERSON_VERB = frozenset("has hasn't hasnt".split())
_THIRD_PERSON = frozenset(
    """he she they he's she's they're theyre his her him them their himself herself themselves
    friend friends mate bestie bff mom mum mother dad father brother sister son daughter cousin
    aunt uncle grandma grandpa grandmother grandfather nan wife husband partner boyfriend
    girlfriend bf gf colleague coworker classmate roommate flatmate someone somebody people
    character protagonist girl boy man woman guy kid person patient client student teen teenager
    celebrity singer actor author narrator villain hero child children kids baby individual
    individuals others adolescents teens teenagers students victims victim survivors""".split()
)
# Subjects that name nobody in particular; a rule marked `impersonal` does not treat them as
# someone else ("how long until someone finds you after...").
_GENERIC = frozenset("someone somebody anyone anybody people person individual individuals one".split())
_FICTION = re.compile(
    r"\b(?:movie|film|book|novel|show|series|episode|story|song|lyrics|poem|anime|manga|fiction|"
    r"plot|scene|video game|character|documentary|podcast|play)\b"
)
_HYPOTHETICAL = re.compile(
    r"\b(?:what if|if i ever|if ever|hypothetically|imagine|in case i|what would happen if|"
    r"what should i do if|how do i help|how can i help|how to help|is it normal to)\b"
)
_RECENT = re.compile(
    r"\b(?:yesterday|last (?:night|week|weekend|month|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)|(?:a|one|two|three|1|2|3|few|couple of|couple) (?:days?|weeks?|months?) ago|"
    r"earlier this (?:week|month)|the other (?:day|night)|recently|this past week)\b"
)
_HISTORY = re.compile(
    r"\b(?:(?:\d+|four|five|six|seven|eight|nine|ten|eleven|twelve|several|many) months ago|"
    r"(?:(?:a|one|two|three|four|five|six|seven|eight|nine|ten|several|few|many|couple of|\d+) )?years? ago|"
    r"last year|years back|when i was (?:\d+|a kid|a child|young|younger|little|a teen|a teenager|in)|"
    r"as a (?:kid|child|teen|teenager)|in (?:high school|middle school|secondary school|college|uni|"
    r"university|my teens|my twenties|(?:19|20)\d\d)|used to|in the past|long time ago|back then|"
    r"stopped|years clean|months clean|clean for)\b"
)
_AFFIRMATION = re.compile(
    r"^(?:yes|yeah|yea|yep|yup|ya|y|i have|i do|i did|i am|i'm|im|yes i have|yes i do|yes i did|"
    r"sometimes|kind of|kinda|sort of|a bit|a little|maybe|probably|all the time|every day|often|"
    r"a lot|true|correct|right|exactly|i guess|i think so)\b[^.?!]{0,30}$"
)
# Hyperbole (see `Rule.hyperbole_tier`): a laughing marker in the sentence, or an idiomatic
# "going to kill myself if/when ..." with a trivial cause in the same sentence.
_LAUGHING = re.compile(
    r"\b(?:lo+l+|lmf?a+o+|rofl|ha(?:ha)+h?|he(?:he)+|jk|jkjk|just (?:kidding|joking)|bruh+|xd+)\b|"
    "\U0001f480|\U0001f602|\U0001f923|\U0001f639|\u2620"
)
_SERIOUS = re.compile(
    r"\b(?:i mean it|(?:not|n't|never) (?:joking|kidding)|no joke|not a joke|i'?m (?:dead )?serious|for real this time)\b"
)
_IDIOM_FUTURE = re.compile(r"\b(?:going to|gonna|will|'ll|ll|might|about to|literally|legit|actually)\b")
_TRIVIAL_CAUSE = re.compile(
    r"\b(?:if|unless|because|cause|cuz|cos|bc)\b[^.?!]{0,60}\b(?:tests?|exams?|quiz(?:zes)?|"
    r"homework|hw|assignments?|essays?|worksheets?|maths?|physics|chemistry|biology|algebra|geometry|"
    r"class(?:es)?|lessons?|teacher|presentation|wifi|internet|lag|game|match|song|episode|season|"
    r"finale|spoilers?|alarm|printer|haircut|outfit|cringe|embarrass\w*|concert|tickets?|pizza|"
    r"snacks?|coffee|traffic|queue|meme|one more (?:\w+ )?(?:day|minute|page|question|problem|word))\b"
)
_TIMING = re.compile(r"^(?:tonight|today|right now|now|soon|tomorrow|this weekend|very soon)\b[ .!]*$")


# "self-strangle", "life-ending": a hyphen between letters is read as a space by the rules.
_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in split_run_together(text).splitlines() or [text]:
        norm = _HYPHEN.sub(" ", normalise(line))
        out.extend(s.strip() for s in _SENTENCES.split(norm) if s.strip())
    return out


def _negated(clause_prefix: str, matched: str = "") -> bool:
    """Whether a negator closely precedes the match, with no word between that ends its scope.

    A match that itself starts with "I" ("... anymore well i had planned to do it") begins a
    clause of its own and is never negated by what came before.
    """
    first = _WORD.match(matched)
    if first and first.group(0) in _NEW_CLAUSE:
        return False
    words = _WORD.findall(clause_prefix)[-5:]
    for i, word in enumerate(words):
        if word in _NEGATORS and not _NEGATION_BREAKERS.intersection(words[i + 1 :]):
            return True
    return False


def _speaker_is(words: Sequence[str]) -> bool:
    """Whether the words end in the speaker describing themself ("i'm the type of")."""
    return _SPEAKER_IS.search(" ".join(words[-8:]) + " ") is not None


def _object_of_speaker(words: Sequence[str]) -> bool:
    """Whether a third-person word is the object of the speaker's verb ("i told my mum ...")."""
    tail = [w for w in words[-3:] if w not in ("my", "the", "our", "to")]
    return len(tail) >= 2 and tail[-1] in _SPEAKER_VERBS and tail[-2] in _FIRST_PERSON


def _subject(prefix: str, *, impersonal: bool = False) -> str:
    words = _WORD.findall(prefix)
    if words and words[-1] in _THIRD_PERSON_VERB:
        # "i'm the type of person who has suicidal thoughts" is about the speaker
        before = words[:-1]
        if before and before[-1] in ("who", "that"):
            before = before[:-1]
            if before and before[-1] in _THIRD_PERSON | _GENERIC:
                before = before[:-1]
        return "first" if _speaker_is(before) else "third"
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if word in _FIRST_PERSON:
            return "first"
        if impersonal and word in _GENERIC:
            continue
        if word in _THIRD_PERSON:
            if _object_of_speaker(words[:index]):
                continue  # "i told my mum the cuts were ...": the speaker is still the subject
            return "first" if _speaker_is(words[:index]) else "third"
    return "none"


@lru_cache(maxsize=64)
def _markers(sentence: str) -> tuple[bool, bool, bool]:
    """Whether a sentence has a recent-time, a long-ago and a fiction marker (once per sentence)."""
    return (_RECENT.search(sentence) is not None, _HISTORY.search(sentence) is not None,
            _FICTION.search(sentence) is not None)


def _hyperbole(sentence: str, match: re.Match[str]) -> bool:
    """Whether a match reads as hyperbole: laughing close by, or "gonna ... if <trivial>" (not "i mean it")."""
    if _SERIOUS.search(sentence):
        return False
    if _LAUGHING.search(sentence[max(0, match.start() - 60) : match.end() + 40]):
        return True
    around = sentence[max(0, match.start() - 40) : match.end()]
    return _IDIOM_FUTURE.search(around) is not None and _TRIVIAL_CAUSE.search(
        sentence[max(0, match.start() - 100) : match.end() + 100]) is not None


def _judge(rule: Rule, sentence: str, match: re.Match[str]) -> Signal | None:
    prefix = sentence[max(0, match.start() - _PREFIX_CHARS) : match.start()]  # bounded: linear time
    clause_prefix = _CLAUSE.split(prefix)[-1]
    if rule.negatable and _negated(clause_prefix, match.group(0)):
        return None
    tier, category, rule_id, detail = rule.tier, rule.category, rule.id, ""
    recent, history, fiction = _markers(sentence)
    if rule.recent_tier is not None and recent:
        tier, rule_id = rule.recent_tier, f"{rule.id}.recent"
    elif rule.history_tier is not None and history:
        tier, rule_id = rule.history_tier, f"{rule.id}.history"
        category = rule.history_category or category
    if rule.self_directed:
        subject = _subject(prefix, impersonal=rule.impersonal)
        if subject == "third" or (subject == "none" and fiction):
            return Signal(source="rules", id=f"{rule_id}.third_party", tier=min(tier, Tier.DISTRESS),
                          category=Category.DISTRESS if tier > Tier.DISTRESS else category,
                          detail="about someone else")
    if rule.hyperbole_tier is not None and tier > rule.hyperbole_tier and _hyperbole(sentence, match):
        tier, rule_id, detail = rule.hyperbole_tier, f"{rule_id}.hyperbole", "hyperbole"
    if tier > Tier.UNCLEAR and _HYPOTHETICAL.search(clause_prefix):
        tier, rule_id, detail = Tier.UNCLEAR, f"{rule_id}.hypothetical", "hypothetical"
    return Signal(source="rules", id=rule_id, tier=tier, category=category, detail=detail)


def _grams(text: str) -> set[str]:
    """Every three- and four-character piece of a sentence (see `Rule.needs_grams`)."""
    return {text[i : i + 3] for i in range(len(text) - 2)} | {text[i : i + 4] for i in range(len(text) - 3)}


def _rule_signals(sentences: Sequence[str]) -> list[Signal]:
    rules = load_rules()
    found: dict[str, Signal] = {}
    # A rule is only run on a sentence holding one of its required three- or four-letter pieces
    # (`Rule.needs_grams`): set lookups, far cheaper than the rule's regex, and most sentences
    # of a long post hold none. First the whole message, then each sentence.
    grams = [_grams(sentence) for sentence in sentences]
    present = set().union(*grams)
    candidates = [
        rule for rule in rules.rules
        if (rule.gate_grams is None or not present.isdisjoint(rule.gate_grams))
        and (rule.needs_grams is None or not present.isdisjoint(rule.needs_grams))
    ]
    for sentence, sentence_grams in zip(sentences, grams, strict=True):
        gates: dict[str, bool] = {}  # a language file's vocabulary check, run once per sentence
        for rule in candidates:
            if rule.needs_grams is not None and sentence_grams.isdisjoint(rule.needs_grams):
                continue
            if rule.gate is not None:
                if rule.gate.pattern not in gates:
                    gates[rule.gate.pattern] = rule.gate.search(sentence) is not None
                if not gates[rule.gate.pattern]:
                    continue
            matches = list(rule.pattern.finditer(sentence))
            # `unless` only matters when the pattern matched (most sentences match nothing).
            if not matches or (rule.unless is not None and rule.unless.search(sentence)):
                continue
            for match in matches:
                signal = _judge(rule, sentence, match)
                if signal is not None and (signal.id not in found or signal.tier > found[signal.id].tier):
                    found[signal.id] = signal
    return list(found.values())


def _escalations(text: str, signals: Sequence[Signal]) -> list[Signal]:
    out: list[Signal] = []
    for esc in load_rules().escalators:
        triggered = any(s.category in esc.categories and s.tier >= esc.min_tier for s in signals)
        if triggered and esc.pattern.search(text):
            out.append(Signal(source="rules", id=esc.id, tier=esc.tier, category=esc.category))
    return out


def screen_message(text: str) -> Assessment:
    """Screen one message with the rules and return its assessment.

    Args:
        text: The patient's message, raw.

    Returns:
        The assessment; tier 0 with no signals when nothing matched or the text is blank.
        Signals carry rule ids only, never the patient's words.
    """
    sentences = _sentences(text)
    signals = _rule_signals(sentences)
    signals += _escalations(" ".join(sentences), signals)
    return Assessment.from_signals(signals, version=DETECTOR_VERSION)


def wants_crisis_resources(text: str) -> bool:
    """Tell whether the patient is asking for help lines or urgent help ("help", "crisis").

    Fails closed: if screening the text raises, the answer is True (show the resources).

    Args:
        text: The patient's message, raw.

    Returns:
        True when a help-request rule matched.
    """
    try:
        return Category.HELP_REQUEST in screen_message(text).categories
    except Exception as exc:  # noqa: BLE001 - showing resources is the safe answer to any error
        _log.error("wants_crisis_resources failed closed: %s", type(exc).__name__)
        return True


def _context_signals(text: str, recent: Sequence[Assessment]) -> list[Signal]:
    """Signals from the recent turns: a bare "yes"/"tonight" after ideation carries its risk."""
    worst = max(recent, key=lambda a: a.tier, default=None)
    if worst is None or worst.tier < Tier.UNCLEAR:
        return []
    short = normalise(text)
    category = worst.categories[0] if worst.categories else Category.PASSIVE_IDEATION
    if worst.tier >= Tier.ACTIVE and _TIMING.match(short):
        return [Signal(source="context", id="context.timing_after_ideation", tier=Tier.URGENT,
                       category=Category.INTENT)]
    if _AFFIRMATION.match(short):
        return [Signal(source="context", id="context.affirms_recent", tier=worst.tier,
                       category=category, detail=f"recent tier {int(worst.tier)}")]
    return []


@lru_cache(maxsize=2048)
def _screen_cached(text: str) -> Assessment:
    """Screen with memory: each turn re-reads the last few messages as context (process memory only)."""
    return screen_message(text)


def assess(
    text: str,
    *,
    recent: Sequence[str] = (),
    screener: Callable[[str], Assessment] = screen_message,
) -> Assessment:
    """Screen a message in the context of the patient's last few messages, failing closed.

    Args:
        text: The new patient message.
        recent: The patient's previous few messages, oldest first (only the last five are used).
        screener: The function that screens one message; tests inject a raising one.

    Returns:
        The message's assessment, raised by context when a bare affirmation or a time follows
        earlier risk. If anything raises, an assessment of tier 2 (UNCLEAR) with the signal
        `error.rules` (source "error", category SCREEN_ERROR) instead.
    """
    try:
        if not text or not text.strip():
            return Assessment(detector_version=DETECTOR_VERSION)
        screen = _screen_cached if screener is screen_message else screener
        current = screen(text)
        earlier = [screen(m) for m in recent[-5:] if m and m.strip()]
        context = _context_signals(text, earlier)
        if context:
            current = current.merged(Assessment.from_signals(context, version=DETECTOR_VERSION))
        return current
    except Exception as exc:  # noqa: BLE001 - safety fails closed: an error is risk, not silence
        _log.error("risk screen failed closed: %s", type(exc).__name__)
        error = Signal(source="error", id="error.rules", tier=Tier.UNCLEAR,
                       category=Category.SCREEN_ERROR, detail=type(exc).__name__)
        return Assessment.from_signals([error], version=DETECTOR_VERSION)
