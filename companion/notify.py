"""Tell the care team about risk events: on-call reviewers and the patient's therapist.

An `EscalationEvent` carries no patient text and no username: ids, tier, categories, the
detector version and a portal link. `EscalationAlerts` sends it in the background after the
escalation is committed, so delivery can never delay or break the crisis reply: a small
bounded worker claims the escalation in the database first (a re-run never notifies twice),
sends with a timeout, retries a failed target once, and logs failures by type only.

Tier 2 (a non-urgent flag) goes to the therapist only; tier 3 and above to the reviewers and
the therapist. Notifiers are pluggable: `AppriseNotifier` (e-mail, webhooks, chat tools),
`RecordingNotifier` (a fake for tests) and `NullNotifier`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from companion.logging import get_logger
from companion.models import Escalation

__all__ = [
    "AppriseNotifier",
    "EscalationAlerts",
    "EscalationEvent",
    "NotificationError",
    "Notifier",
    "NullNotifier",
    "RecordingNotifier",
    "build_alerts",
    "message_for",
]

log = get_logger(__name__)

REVIEWER_MIN_TIER = 3
THERAPIST_MIN_TIER = 2
MAX_REMEMBERED = 10_000


class EscalationEvent(BaseModel):
    """What a notification says about an escalation. Never patient text, never a username."""

    model_config = ConfigDict(frozen=True)

    escalation_id: str
    tier: int = Field(ge=0, le=5)
    urgent: bool
    categories: tuple[str, ...] = ()
    detector_version: str
    before_consent: bool
    created_at: datetime
    portal_path: str

    @classmethod
    def from_escalation(cls, row: Escalation) -> EscalationEvent:
        """Describe a stored escalation (reads only its non-text columns)."""
        return cls(
            escalation_id=row.id, tier=row.tier, urgent=row.urgent,
            categories=tuple(c for c in row.categories.split(",") if c),
            detector_version=row.detector_version, before_consent=row.before_consent,
            created_at=row.created_at, portal_path=f"/portal/escalations/{row.id}",
        )


class NotificationError(RuntimeError):
    """A notification was not accepted by every target (the message says which status, not the text)."""


class Notifier(Protocol):
    """Sends one event to its targets; raises on failure."""

    def notify(self, event: EscalationEvent) -> None: ...


def message_for(event: EscalationEvent, *, base_url: str = "") -> tuple[str, str]:
    """Return (title, body) for an event: what happened and what to do, without patient text."""
    if event.tier >= 5:
        kind, todo = "EMERGENCY risk escalation", "Open the escalation in the portal now and follow the emergency procedure."
    elif event.tier >= 4:
        kind, todo = "URGENT risk escalation", "Open the escalation in the portal now and follow the urgent-contact procedure."
    elif event.tier >= REVIEWER_MIN_TIER:
        kind, todo = "Risk escalation", "Open the escalation in the portal and acknowledge it."
    else:
        kind, todo = "Non-urgent risk flag", "Open the escalation in the portal and review it before the next session."
    categories = ", ".join(c.replace("_", " ") for c in event.categories) or "none recorded"
    consent = " It was raised before the patient gave consent." if event.before_consent else ""
    body = (
        f"{kind} (tier {event.tier}) in a Companion conversation. Categories: {categories}.{consent}\n"
        f"{todo}\n{base_url.rstrip('/')}{event.portal_path}\n"
        f"Raised {event.created_at:%Y-%m-%d %H:%M} UTC by detector {event.detector_version}. "
        "This message holds no patient details; do not forward patient details by e-mail or chat."
    )
    return f"Companion: {kind.lower()} (tier {event.tier})", body


class AppriseNotifier:
    """Send events to apprise URLs (mailto://, json://, slack://, ...), with a timeout."""

    def __init__(self, urls: Sequence[str], *, base_url: str = "", timeout: float = 10.0,
                 setting: str = "notify URL") -> None:
        import apprise

        logging.getLogger("apprise").setLevel(logging.CRITICAL)  # our own log lines say what failed
        self.base_url, self.timeout = base_url, timeout
        self._apprise = apprise.Apprise()
        self._notify_type = apprise.NotifyType
        for index, url in enumerate(urls):
            plugin = apprise.Apprise.instantiate(url)
            if plugin is None:
                scheme = url.split("://", 1)[0]
                raise ValueError(
                    f"{setting}[{index}] (scheme {scheme!r}) is not a URL apprise understands; "
                    "see https://github.com/caronc/apprise/wiki for the URL of each service"
                )
            plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
            self._apprise.add(plugin)

    def __len__(self) -> int:
        return len(self._apprise)

    def notify(self, event: EscalationEvent) -> None:
        title, body = message_for(event, base_url=self.base_url)
        kind = self._notify_type.WARNING if event.tier >= REVIEWER_MIN_TIER else self._notify_type.INFO
        result = self._apprise.notify(body=body, title=title, notify_type=kind, timeout=self.timeout)
        if not result:
            raise NotificationError(f"notification not delivered: status {result.status.name}")


class RecordingNotifier:
    """A fake that records events (and can be told to fail the next `fail_times` calls)."""

    def __init__(self, *, fail_times: int = 0) -> None:
        self.events: list[EscalationEvent] = []
        self.fail_times = fail_times
        self._lock = threading.Lock()

    def notify(self, event: EscalationEvent) -> None:
        with self._lock:
            if self.fail_times > 0:
                self.fail_times -= 1
                raise NotificationError("recording notifier told to fail")
            self.events.append(event)


class NullNotifier:
    """Sends nothing (no targets configured)."""

    def notify(self, event: EscalationEvent) -> None:
        return None


_STOP = object()


class EscalationAlerts:
    """Deliver escalation events in the background: claim once, send, retry once, log by type.

    Args:
        reviewers: Notifier for the on-call reviewers (tier 3 and above).
        therapist_notifier: Builds a notifier for the therapists' own URLs.
        therapist_urls: Returns the notify URLs of a patient's therapists.
        claim: Records in the database that `tier` is being notified for an escalation;
            returns False when that tier (or a higher one) was already notified.
        workers: Background threads; `max_pending` jobs may wait before new ones are dropped.
        retry_delay: Seconds before the one retry of a failed target.
    """

    def __init__(
        self, *, reviewers: Notifier, therapist_notifier: Callable[[Sequence[str]], Notifier],
        therapist_urls: Callable[[str], list[str]], claim: Callable[[str, int], bool],
        workers: int = 2, max_pending: int = 100, retry_delay: float = 2.0,
    ) -> None:
        self.reviewers, self.therapist_notifier = reviewers, therapist_notifier
        self.therapist_urls, self.claim, self.retry_delay = therapist_urls, claim, retry_delay
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_pending)
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._submitted: dict[str, int] = {}  # escalation id -> highest tier queued in this process

    def submit(self, event: EscalationEvent, *, patient_id: str) -> None:
        """Queue an event after its escalation is committed; never blocks, never raises."""
        if event.tier < THERAPIST_MIN_TIER:
            return
        with self._lock:
            if self._submitted.get(event.escalation_id, -1) >= event.tier:
                return
            self._start_workers()
            try:
                self._queue.put_nowait((event, patient_id))
            except queue.Full:
                log.error("escalation_notify_dropped", escalation_id=event.escalation_id, tier=event.tier,
                          reason="queue full")
                return
            self._submitted[event.escalation_id] = event.tier
            if len(self._submitted) > MAX_REMEMBERED:  # the database claim is the durable guard
                del self._submitted[next(iter(self._submitted))]
            self._pending += 1

    def _start_workers(self) -> None:
        if not self._threads:
            for index in range(self._workers):
                thread = threading.Thread(target=self._work, name=f"escalation-alerts-{index}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if not isinstance(job, tuple):
                return  # _STOP
            event: EscalationEvent = job[0]
            patient_id: str = job[1]
            try:
                self._deliver(event, patient_id)
            except Exception as exc:  # noqa: BLE001 - a worker must survive anything
                log.error("escalation_notify_failed", escalation_id=event.escalation_id, error=type(exc).__name__)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, event: EscalationEvent, patient_id: str) -> None:
        if not self.claim(event.escalation_id, event.tier):
            return  # already notified at this tier, here or in another process
        targets: list[tuple[str, Notifier]] = []
        for_therapist = event
        if event.tier >= REVIEWER_MIN_TIER:
            targets.append(("reviewers", self.reviewers))
        try:
            urls = self.therapist_urls(patient_id)
            if urls:
                targets.append(("therapist", self.therapist_notifier(urls)))
            # Therapists open their patient's page (the escalation page is the reviewers').
            for_therapist = event.model_copy(update={"portal_path": f"/portal/patients/{patient_id}"})
        except Exception as exc:  # noqa: BLE001 - a bad therapist URL must not stop the reviewers' alert
            log.error("escalation_notify_failed", escalation_id=event.escalation_id, source="therapist",
                      error=type(exc).__name__)
        for attempt in (1, 2):
            failed: list[tuple[str, Notifier]] = []
            for source, notifier in targets:
                try:
                    notifier.notify(for_therapist if source == "therapist" else event)
                    log.info("escalation_notified", escalation_id=event.escalation_id, tier=event.tier, source=source)
                except Exception as exc:  # noqa: BLE001 - logged by type only; the text may not be ours
                    log.warning("escalation_notify_attempt_failed", escalation_id=event.escalation_id,
                                source=source, error=type(exc).__name__, count=attempt)
                    failed.append((source, notifier))
            if not failed:
                return
            targets = failed
            if attempt == 1:
                time.sleep(self.retry_delay)
        for source, _ in targets:
            log.error("escalation_notify_failed", escalation_id=event.escalation_id, tier=event.tier, source=source)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was handled; return False on timeout (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued (up to `timeout` seconds) and stop the workers."""
        self.wait_idle(timeout)
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            try:
                self._queue.put(_STOP, timeout=1.0)
            except queue.Full:
                break  # workers are stuck on slow targets; they are daemon threads
        for thread in threads:
            thread.join(timeout=1.0)


def build_alerts(
    *, reviewer_urls: Sequence[str], base_url: str, timeout: float,
    therapist_urls: Callable[[str], list[str]], claim: Callable[[str, int], bool],
) -> EscalationAlerts:
    """Build the alerts worker from settings values (reviewer URLs are checked here, at start-up)."""
    reviewers: Notifier = (
        AppriseNotifier(reviewer_urls, base_url=base_url, timeout=timeout, setting="COMPANION_NOTIFY_REVIEWER_URLS")
        if reviewer_urls else NullNotifier()
    )

    def therapist_notifier(urls: Sequence[str]) -> Notifier:
        return AppriseNotifier(urls, base_url=base_url, timeout=timeout, setting="therapist notify_url")

    return EscalationAlerts(reviewers=reviewers, therapist_notifier=therapist_notifier,
                            therapist_urls=therapist_urls, claim=claim)
