"""The portal's storage paths again, on PostgreSQL (skipped unless COMPANION_TEST_POSTGRES_URL is set).

The tests are the ones their own modules run on SQLite, imported here so that this module's
`portal_settings` (a fresh PostgreSQL database per test) applies to them. They cover what differs
between the back-ends: the atomic invitation claim under concurrency, conditional updates of
escalation state, the enum column of escalation actions, upserts of assignments and the
session and rate-limit tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.runtime import Runtime
from companion.settings import Settings
from tests.companion.portal.test_auth_routes import (
    test_repeated_failures_pause_sign_in_even_with_the_right_password,
    test_second_factor_is_required_when_switched_on,
)
from tests.companion.portal.test_caseload import test_urgent_events_come_first_without_excerpts
from tests.companion.portal.test_escalations import (
    test_repeated_submits_do_not_corrupt_state,
    test_the_full_walk_from_open_to_labelled_and_exported,
)
from tests.companion.portal.test_invites import (
    test_concurrent_redemptions_create_exactly_one_account,
    test_invite_is_shown_once_then_joins_signs_in_to_chat_and_appears_on_the_caseload,
)
from tests.companion.portal.test_progress import (
    test_assigning_validates_stores_encrypted_and_removes,
    test_pre_session_summary_covers_the_time_since_the_last_session,
    test_scores_are_charts_with_a_point_per_score_and_outcomes_in_words,
)
from tests.companion.portal.test_queue import (
    test_unresolved_first_then_higher_tier_then_overdue_then_newest,
)
from tests.conftest import fresh_postgres_database, make_settings

pytestmark = pytest.mark.postgres

__all__ = [
    "test_assigning_validates_stores_encrypted_and_removes",
    "test_concurrent_redemptions_create_exactly_one_account",
    "test_invite_is_shown_once_then_joins_signs_in_to_chat_and_appears_on_the_caseload",
    "test_pre_session_summary_covers_the_time_since_the_last_session",
    "test_repeated_failures_pause_sign_in_even_with_the_right_password",
    "test_repeated_submits_do_not_corrupt_state",
    "test_scores_are_charts_with_a_point_per_score_and_outcomes_in_words",
    "test_second_factor_is_required_when_switched_on",
    "test_the_full_walk_from_open_to_labelled_and_exported",
    "test_unresolved_first_then_higher_tier_then_overdue_then_newest",
    "test_urgent_events_come_first_without_excerpts",
]


@pytest.fixture
def portal_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings on a fresh PostgreSQL database of its own, dropped afterwards."""
    with fresh_postgres_database("companion_portal") as url:
        yield make_settings(tmp_path / "var", public_url="https://testserver", database_url=url)


def test_this_module_really_runs_on_postgresql(runtime: Runtime) -> None:
    assert runtime.engine.dialect.name == "postgresql"
