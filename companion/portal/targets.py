"""The escalation queue's response policy: a time-to-acknowledge target per risk tier.

The targets are operational policy, so they live in a content file
(`content/safety/response_targets.yaml`) with an id, a version, a review date and an owner,
not in code. `load_response_targets` reads and checks it; every problem is a `ContentError`
naming the file and line. Tiers 0 and 1 are never queued; each queued tier (2-5) needs a
target, and a higher tier may not have a longer target than a lower one.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.content import ContentError, read_yaml
from flows.questionnaires import line_of, schema_problems, yaml_lines
from safety.paths import CONTENT_ROOT

__all__ = ["QUEUED_TIERS", "TARGETS_FILE", "ResponseTargets", "TierTarget", "load_response_targets", "response_targets"]

TARGETS_FILE = CONTENT_ROOT / "safety" / "response_targets.yaml"
#: The tiers that reach the reviewers' queue (0 and 1 never do).
QUEUED_TIERS = (2, 3, 4, 5)


class TierTarget(BaseModel):
    """One tier's words for reviewers and its time-to-acknowledge target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1, max_length=120)
    target_minutes: int = Field(gt=0, le=7 * 24 * 60)

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.target_minutes)


class ResponseTargets(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^safety\.response_targets$")
    version: str = Field(min_length=1, max_length=32)
    review_date: date
    owner: str = Field(min_length=1, max_length=200)
    tiers: dict[int, TierTarget]

    def for_tier(self, tier: int) -> TierTarget | None:
        """The target of `tier`, or None for tiers that are not queued."""
        return self.tiers.get(tier)


def load_response_targets(path: Path = TARGETS_FILE) -> ResponseTargets:
    """Read and check the response-target policy file.

    Raises:
        ContentError: the file is missing, not YAML, does not fit the schema, lacks a queued
            tier, names a tier that is never queued, or gives a higher tier a longer target.
    """
    if not path.is_file():
        raise ContentError(path, 0, "response-target policy file not found; restore it from the repository")
    data = read_yaml(path)
    lines = yaml_lines(path.read_text(encoding="utf-8"))
    try:
        policy = ResponseTargets.model_validate(data)
    except ValidationError as exc:
        _, problems = schema_problems(exc, lines)
        locs = [tuple(str(part) for part in error["loc"]) for error in exc.errors()]  # tier keys are ints
        line = line_of(lines, next((loc for loc in locs if loc in lines), locs[0]))
        raise ContentError(path, line, f"does not fit the schema: {problems}") from exc
    tiers_line = line_of(lines, ("tiers",))
    missing = [t for t in QUEUED_TIERS if t not in policy.tiers]
    if missing:
        raise ContentError(path, tiers_line, f"tiers {missing} have no target; give every queued tier (2-5) one")
    extra = sorted(t for t in policy.tiers if t not in QUEUED_TIERS)
    if extra:
        raise ContentError(path, tiers_line, f"tiers {extra} are never queued; only tiers 2-5 take a target")
    for lower, higher in zip(QUEUED_TIERS, QUEUED_TIERS[1:], strict=False):
        if policy.tiers[higher].target_minutes > policy.tiers[lower].target_minutes:
            raise ContentError(
                path, line_of(lines, ("tiers", str(higher), "target_minutes")),
                f"tier {higher} waits longer ({policy.tiers[higher].target_minutes} min) than tier {lower} "
                f"({policy.tiers[lower].target_minutes} min); a higher tier needs the same or a shorter target",
            )
    return policy


@cache
def response_targets() -> ResponseTargets:
    """The shipped policy, read once per process."""
    return load_response_targets()
