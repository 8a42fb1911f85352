"""Open everything a running Companion needs, once per process: database, keys, checkpoints, content.

Content is validated here, at start-up: a malformed module or consent file stops the start with
a message naming the file and line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph, StateGraph
from sqlalchemy.engine import Engine

from companion.crypto import PatientCrypto, encrypted_checkpoint_serializer
from companion.db import create_db_engine, migrate
from companion.keys import load_keyring
from companion.llm import build_judged_detector, build_personaliser
from companion.notify import EscalationAlerts, build_alerts
from companion.settings import Settings
from companion.store import SqlPatientStore, crypto_for
from flows.copy import ChatCopy, ConsentDocument, load_consent, load_copy
from flows.graph import build_graph
from flows.modules import ModuleLibrary, load_library
from flows.personalise import Personaliser
from flows.questionnaires import Questionnaire, load_questionnaires
from safety.detector import Detector, default_detector
from safety.screening import ScreeningSet, load_screening

__all__ = ["Runtime", "open_checkpointer", "open_runtime"]

#: Types the conversation state holds besides plain JSON values (see flows/state.py).
CHECKPOINT_TYPES = [("flows.state", "Phase")]


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    crypto: PatientCrypto
    store: SqlPatientStore
    checkpointer: BaseCheckpointSaver[Any]
    builder: StateGraph[Any, Any]
    graph: CompiledStateGraph[Any, Any, Any, Any]
    modules: ModuleLibrary
    copy: ChatCopy
    consent: ConsentDocument
    screening: ScreeningSet
    questionnaires: dict[str, Questionnaire]
    personaliser: Personaliser
    close_checkpointer: Callable[[], None]
    detector: Detector  # layers 1-3, no LLM
    judged_detector: Detector | None  # with the LLM judge, for patients who agreed to it
    alerts: EscalationAlerts | None = None

    def close(self) -> None:
        if self.alerts is not None:
            self.alerts.close()  # finish queued notifications before the database goes away
        self.close_checkpointer()
        self.engine.dispose()


def open_checkpointer(
    settings: Settings, crypto: PatientCrypto
) -> tuple[BaseCheckpointSaver[Any], Callable[[], None]]:
    """Open the encrypted checkpoint store: a SQLite file in the data dir, or the PostgreSQL database."""
    serde = encrypted_checkpoint_serializer(crypto, allowed_types=CHECKPOINT_TYPES)
    if settings.is_postgres:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(
            settings.checkpoint_location, min_size=1, max_size=4, open=True,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        )
        saver: BaseCheckpointSaver[Any] = PostgresSaver(pool, serde=serde)  # type: ignore[arg-type]
        close: Callable[[], None] = pool.close
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(settings.checkpoint_location, check_same_thread=False, timeout=5)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA secure_delete=ON")
        saver = SqliteSaver(conn, serde=serde)
        close = conn.close
    saver.setup()  # type: ignore[attr-defined]
    return saver, close


def open_runtime(settings: Settings, *, create_keys: bool = True) -> Runtime:
    """Validate settings and content, migrate the database, and compile the graph."""
    settings.validate_for_start()
    modules, copy, consent, screening = load_library(), load_copy(), load_consent(), load_screening()
    questionnaires = load_questionnaires()
    engine = create_db_engine(settings)
    migrate(engine)
    keyring = load_keyring(settings, create=create_keys)
    crypto = crypto_for(engine, keyring)
    store = SqlPatientStore(engine, crypto)
    store.alerts = build_alerts(
        reviewer_urls=settings.notify_reviewer_urls, base_url=settings.origin,
        timeout=settings.notify_timeout_seconds,
        therapist_urls=store.therapist_notify_urls, claim=store.claim_notification,
    )
    checkpointer, close_checkpointer = open_checkpointer(settings, crypto)
    builder = build_graph()
    runtime = Runtime(
        settings=settings, engine=engine, crypto=crypto, store=store,
        checkpointer=checkpointer, builder=builder, graph=builder.compile(checkpointer=checkpointer),
        modules=modules, copy=copy, consent=consent, screening=screening, questionnaires=questionnaires,
        personaliser=build_personaliser(settings), close_checkpointer=close_checkpointer,
        detector=default_detector(), judged_detector=build_judged_detector(settings),
        alerts=store.alerts,
    )
    return runtime
