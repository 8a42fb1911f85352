"""The rule file compiles, ids are stable and unique, and malformed rules are refused."""

from __future__ import annotations

from typing import Any

import pytest

from safety.rules import load_rule_file, load_rules, parse_rules, rule_files
from safety.types import Tier


def _data(**rule: Any) -> dict[str, Any]:
    base = {"id": "r.one", "tier": 3, "category": "active_ideation", "patterns": "abc\n"}
    return {"id": "t", "version": "1", "macros": {"X": "x+"}, "rules": [base | rule]}


def test_shipped_rules_compile_with_unique_ids() -> None:
    rules = load_rules()
    ids = [r.id for r in rules.rules]
    assert len(ids) == len(set(ids)) >= 15
    assert all(r.tier >= Tier.DISTRESS for r in rules.rules)
    assert rules.escalators


def test_macros_expand() -> None:
    (rule,) = parse_rules(_data(patterns="a%X%b\n")).rules
    assert rule.pattern.search("axxb")


@pytest.mark.parametrize(
    ("override", "message"),
    [({"patterns": "a%NOPE%\n"}, "unknown macro"), ({"patterns": "a(b\n"}, "invalid regex"),
     ({"patterns": "\n# only a comment\n"}, "empty")],
)
def test_bad_rules_are_refused_with_the_rule_id(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"r.one.*{message}|{message}"):
        parse_rules(_data(**override))


def test_duplicate_ids_are_refused() -> None:
    data = _data()
    data["rules"] = data["rules"] * 2
    with pytest.raises(ValueError, match="duplicate"):
        parse_rules(data)


def test_every_language_file_is_loaded_with_prefixed_ids() -> None:
    rules = load_rules()
    assert set(rules.languages) >= {"en", "es", "fr", "de", "pt"}
    for language in ("es", "fr", "de", "pt"):
        own = [r for r in rules.rules if r.id.startswith(f"{language}.")]
        assert own, language
        assert all(r.gate is not None and not r.negatable and not r.self_directed for r in own)
    for path in rule_files():
        assert load_rule_file(path).rules
    assert rules.version.startswith(load_rule_file(rule_files()[0]).version)


def test_language_ids_need_their_prefix() -> None:
    data = _data(id="si.active") | {"language": "es"}
    data["rules"][0]["id"] = "si.active"
    with pytest.raises(ValueError, match="must start with 'es.'"):
        parse_rules(data)


def test_defaults_and_prefix_and_gate() -> None:
    data = _data(patterns="morir\n") | {"language": "es", "requires": "mor",
                                        "defaults": {"negatable": False, "prefix": r"(?<!no )"}}
    data["rules"][0]["id"] = "es.one"
    (rule,) = parse_rules(data).rules
    assert not rule.negatable and rule.gate is not None
    assert rule.pattern.search("quiero morir") and not rule.pattern.search("no morir")
    with pytest.raises(ValueError, match="defaults"):
        parse_rules(_data() | {"defaults": {"tier": 5}})


def _case_texts() -> list[str]:
    import yaml

    from safety.paths import SAFETY_DATA

    folder = SAFETY_DATA.parents[1] / "tests" / "safety"
    texts = [str(c["text"]) for p in sorted(folder.glob("cases*.yaml"))
             for c in yaml.safe_load(p.read_text(encoding="utf-8")) or []]
    assert len(texts) > 400
    return texts


def test_required_words_are_derived_from_the_pattern() -> None:
    import re

    from safety.rules import required_words

    assert required_words(re.compile(r"\b(?:kill|end) my life")) == (" my life",)
    assert required_words(re.compile(r"(?:cut|burn)(?:ing)? myself")) == (" myself",)
    assert required_words(re.compile(r"(?:want|need) to (?:die|go)")) == ("need", "want")
    assert required_words(re.compile(r"(?:a|b)?x+")) is None


def test_skipping_rules_by_required_words_never_drops_a_match() -> None:
    from safety.screen import _grams, _sentences

    rules = load_rules().rules
    for text in _case_texts():
        for sentence in _sentences(text):
            for rule in rules:
                if rule.pattern.search(sentence):
                    if rule.needs is not None:
                        assert any(w in sentence for w in rule.needs), (rule.id, text)
                    if rule.needs_grams is not None:
                        assert not _grams(sentence).isdisjoint(rule.needs_grams), (rule.id, text)
                if rule.gate is not None and rule.gate.search(sentence) and rule.gate_grams is not None:
                    assert not _grams(sentence).isdisjoint(rule.gate_grams), (rule.id, text)


def test_rare_grams_pick_one_piece_of_each_word() -> None:
    from safety.rules import rare_grams

    assert rare_grams(None) is None
    assert rare_grams(("kill", "die")) == frozenset({"kill", "die"})
    (piece,) = rare_grams(("overdose",)) or ()
    assert len(piece) == 4 and piece in "overdose"


def test_start_check_keeps_every_match() -> None:
    import re

    from safety.rules import with_start_check
    from safety.screen import _sentences

    sentences = [s for t in _case_texts() for s in _sentences(t)]
    for rule in load_rules().rules:
        inner = re.compile(rule.pattern.pattern.removeprefix("(?=").split(")(?:", 1)[-1][:-1]) \
            if rule.pattern.pattern.startswith("(?=[") else rule.pattern
        assert with_start_check(inner).pattern == rule.pattern.pattern
        for s in sentences:
            assert [m.span() for m in inner.finditer(s)] == [m.span() for m in rule.pattern.finditer(s)]
