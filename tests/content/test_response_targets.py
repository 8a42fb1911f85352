"""The reviewers' response-target policy file loads, and each kind of broken copy names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.portal.targets import QUEUED_TIERS, TARGETS_FILE, load_response_targets
from flows.content import ContentError


def test_the_shipped_policy_has_a_target_for_every_queued_tier() -> None:
    policy = load_response_targets()
    assert policy.id == "safety.response_targets" and policy.version and policy.owner
    assert sorted(policy.tiers) == list(QUEUED_TIERS)
    minutes = [policy.tiers[t].target_minutes for t in sorted(QUEUED_TIERS, reverse=True)]
    assert minutes == sorted(minutes)  # the higher the tier, the shorter the wait
    assert policy.for_tier(1) is None and policy.for_tier(0) is None


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = TARGETS_FILE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "response_targets.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(("old", "new", "message", "at"), [
    ("target_minutes: 15", "target_minutes: -15", "does not fit the schema", "target_minutes: -15"),
    ("owner: ", "ownr: ", "does not fit the schema", "ownr:"),
    ("  2:\n    label: Flag for the care team (passive wish or unclear signal)\n    target_minutes: 1440\n", "",
     "tiers [2] have no target", "tiers:"),
    ("  2:\n", "  1:\n    label: Distress\n    target_minutes: 2000\n  2:\n", "tiers [1] are never queued", "tiers:"),
    ("target_minutes: 5\n", "target_minutes: 30\n", "tier 5 waits longer (30 min) than tier 4", "target_minutes: 30"),
    ("version: \"1.0\"", "version: [1", "invalid YAML", "version: [1"),
])
def test_broken_policies_are_refused_naming_file_and_line(
    tmp_path: Path, old: str, new: str, message: str, at: str,
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ContentError) as caught:
        load_response_targets(path)
    assert caught.value.path == path and message in caught.value.problem
    if "invalid YAML" not in message:
        assert caught.value.line == line_of(path, at)


def test_a_missing_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="response_targets.yaml:0: response-target policy file not found"):
        load_response_targets(tmp_path / "response_targets.yaml")
