from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.content import ContentError
from flows.questionnaires import (
    QUESTIONNAIRES_DIR,
    load_questionnaire,
    load_questionnaires,
    parse_difficulty,
    parse_option,
    read_questionnaire,
    score,
)

# Verbatim from clinical-facts.md §1 (HL7 US Core example) and §2 (form text). Frozen: a change
# to an item's wording must be deliberate, here and in the content file.
PHQ9_ITEMS = [
    ("44250-9", "Little interest or pleasure in doing things?"),
    ("44255-8", "Feeling down, depressed, or hopeless?"),
    ("44259-0", "Trouble falling or staying asleep, or sleeping too much"),
    ("44254-1", "Feeling tired or having little energy"),
    ("44251-7", "Poor appetite or overeating"),
    ("44258-2", "Feeling bad about yourself-or that you are a failure or have let yourself or your family down"),
    ("44252-5", "Trouble concentrating on things, such as reading the newspaper or watching television"),
    ("44253-3", "Moving or speaking so slowly that other people could have noticed. Or the opposite-being so "
                "fidgety or restless that you have been moving around a lot more than usual"),
    ("44260-8", "Thoughts that you would be better off dead, or of hurting yourself in some way"),
]
GAD7_ITEMS = [
    ("69725-0", "Feeling nervous, anxious, or on edge"),
    ("68509-9", "Not being able to stop or control worrying"),
    ("69733-4", "Worrying too much about different things"),
    ("69734-2", "Trouble relaxing"),
    ("69735-9", "Being so restless that it is hard to sit still"),
    ("69689-8", "Becoming easily annoyed or irritable"),
    ("69736-7", "Feeling afraid, as if something awful might happen"),
]
OPTIONS = [("Not at all", 0, "LA6568-5"), ("Several days", 1, "LA6569-3"),
           ("More than half the days", 2, "LA6570-1"), ("Nearly every day", 3, "LA6571-9")]


def test_both_questionnaires_load_by_id() -> None:
    assert sorted(load_questionnaires()) == ["gad7", "phq9"]
    assert load_questionnaire("phq9").content_id == "phq9@1.0.0"
    with pytest.raises(KeyError, match="known: \\['gad7', 'phq9'\\]"):
        load_questionnaire("bdi")


def test_phq9_is_verbatim_with_its_codes_bands_and_risk_item() -> None:
    q = load_questionnaire("phq9")
    assert q.stem == "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    assert [(i.loinc, i.text) for i in q.items] == PHQ9_ITEMS
    assert [i.number for i in q.items] == list(range(1, 10))
    assert [(o.label, o.score, o.loinc) for o in q.options] == OPTIONS
    assert (q.panel_loinc, q.total_loinc, q.max_total, q.risk_item) == ("44249-1", "44261-6", 27, 9)
    assert [(b.min, b.max, b.label) for b in q.bands] == [
        (0, 4, "Minimal"), (5, 9, "Mild"), (10, 14, "Moderate"), (15, 19, "Moderately severe"), (20, 27, "Severe")]
    assert q.difficulty is not None and q.difficulty.loinc == "69722-7"
    assert [(o.label, o.loinc) for o in q.difficulty.options] == [
        ("Not difficult at all", "LA6572-7"), ("Somewhat difficult", "LA6573-5"),
        ("Very difficult", "LA6575-0"), ("Extremely difficult", "LA6574-3")]
    assert "Pfizer" in q.copyright and "public domain" in q.copyright.lower()


def test_gad7_is_verbatim_with_its_codes_and_bands() -> None:
    q = load_questionnaire("gad7")
    assert q.stem == "Over the last 2 weeks, how often have you been bothered by the following problems?"
    assert [(i.loinc, i.text) for i in q.items] == GAD7_ITEMS
    assert [(o.label, o.score, o.loinc) for o in q.options] == OPTIONS
    assert (q.panel_loinc, q.total_loinc, q.max_total, q.risk_item) == ("69737-5", "70274-6", 21, None)
    assert [(b.min, b.max, b.label) for b in q.bands] == [
        (0, 4, "Minimal"), (5, 9, "Mild"), (10, 14, "Moderate"), (15, 21, "Severe")]


@pytest.mark.parametrize(("text", "expected"), [
    ("Not at all", 0), ("NOT AT ALL", 0), ("not at all.", 0), ("0", 0), ("never", 0), ("No", 0),
    ("several days", 1), ("1", 1), ("sometimes", 1),
    ("More than half the days", 2), (" 2 ", 2), ("most days", 2),
    ("nearly every day", 3), ("3", 3), ("every day", 3), ("Always!", 3),
    ("4", None), ("not at all sure", None), ("", None), ("maybe", None), ("1 or 2", None),
])
def test_parse_option(text: str, expected: int | None) -> None:
    assert parse_option(load_questionnaire("phq9"), text) == expected


def test_parse_difficulty() -> None:
    q = load_questionnaire("gad7")
    assert [parse_difficulty(q, t) for t in ("Not difficult at all", "somewhat", "VERY DIFFICULT", "extremely", "2")] == [
        0, 1, 2, 3, None]


def test_score_sums_and_bands_only_when_complete() -> None:
    q = load_questionnaire("phq9")
    answers = {item.id: 1 for item in q.items} | {"phq9_9": 0}
    result = score(q, answers)
    assert (result.total, result.complete, result.risk_item_positive) == (8, True, False)
    assert result.band is not None and result.band.id == "mild"
    assert score(q, {item.id: 3 for item in q.items}).band.label == "Severe"  # type: ignore[union-attr]
    assert score(q, {item.id: 0 for item in q.items}).band.id == "minimal"  # type: ignore[union-attr]
    partial = score(q, {"phq9_1": 2, "phq9_2": 2})
    assert (partial.total, partial.complete, partial.band) == (4, False, None)


def test_band_edges() -> None:
    q = load_questionnaire("gad7")
    assert [q.band_for(t).id for t in (4, 5, 9, 10, 14, 15, 21)] == [
        "minimal", "mild", "mild", "moderate", "moderate", "severe", "severe"]


@pytest.mark.parametrize("value", [1, 2, 3])
def test_a_positive_item_9_is_flagged_whatever_the_total(value: int) -> None:
    q = load_questionnaire("phq9")
    low_total = {item.id: 0 for item in q.items} | {"phq9_9": value}
    result = score(q, low_total)
    assert result.risk_item_positive and result.band is not None and result.band.id == "minimal"
    assert score(q, {"phq9_9": value}).risk_item_positive, "flagged before the questionnaire is complete"


def test_gad7_has_no_risk_item() -> None:
    q = load_questionnaire("gad7")
    assert not score(q, {item.id: 3 for item in q.items}).risk_item_positive


def test_score_refuses_unknown_items_and_scores_but_ignores_difficulty() -> None:
    q = load_questionnaire("gad7")
    with pytest.raises(ValueError, match="unknown item 'phq9_1'"):
        score(q, {"phq9_1": 1})
    with pytest.raises(ValueError, match="has score 4"):
        score(q, {"gad7_1": 4})
    assert score(q, {"gad7_1": 2, "gad7_difficulty": 3}).total == 2


# ---- the loader refuses broken files, naming file and line ----

def broken(tmp_path: Path, old: str, new: str, name: str = "phq9") -> Path:
    text = (QUESTIONNAIRES_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(("old", "new", "at", "message"), [
    ("    number: 3\n", "    number: 4\n", "number: 4", "items are numbered 1..9"),
    ("    score: 2\n", "    score: 3\n", "score: 3", "option scores must run 0, 1, 2"),
    ("{id: mild, min: 5, max: 9", "{id: mild, min: 6, max: 9", "id: mild", "gap or overlap"),
    ("{id: mild, min: 5, max: 9", "{id: mild, min: 4, max: 9", "id: mild", "gap or overlap"),
    ("{id: severe, min: 20, max: 27", "{id: severe, min: 20, max: 26", "bands:", "must cover 0..27"),
    ("    loinc: 44254-1\n", "    loinc: 44254-12\n", "44254-12", "items.3.loinc"),
    ("loinc: LA6569-3", "loinc: 6569-3", "6569-3", "options.1.loinc"),
    ("risk_item: 9", "risk_item: 10", "risk_item: 10", "not an item number"),
    ("synonyms: [some days", "synonyms: [never, some days", "- label: Several days", "'never' is used by two options"),
    ("id: phq9\n", "id: phq8\n", "id: phq8", "does not match the file name"),
    ("stem: Over", "stems: Over", "stems:", "stems: Extra inputs are not permitted"),
])
def test_loader_names_the_line_of_the_problem(tmp_path: Path, old: str, new: str, at: str, message: str) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ContentError, match=re.escape(message)) as caught:
        read_questionnaire(path)
    assert caught.value.path == path
    assert caught.value.line == line_of(path, at)


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "title: PHQ-9\n", "title: [PHQ-9\n")
    with pytest.raises(ContentError, match="invalid YAML") as caught:
        read_questionnaire(path)
    assert caught.value.line > 1


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no questionnaire files"):
        load_questionnaires(tmp_path)
