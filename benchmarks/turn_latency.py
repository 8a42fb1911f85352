"""Turn latency: a few hundred scripted turns through the whole graph, next to a bare graph.

Runs in process on a temporary data directory (SQLite): screen, module runner, scripted
personaliser, encryption, SQLite commit. The baseline is a one-node LangGraph graph on the
same kind of checkpointer (SqliteSaver, unencrypted), run in the same process, so the ratio
shows what Companion adds. Prints figures; asserts nothing.

    python benchmarks/turn_latency.py [--turns 300]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langgraph.checkpoint.sqlite import SqliteSaver  # noqa: E402
from langgraph.graph import END, START, StateGraph  # noqa: E402
from sqlmodel import Session  # noqa: E402

from companion.accounts import create_user  # noqa: E402
from companion.logging import configure_logging  # noqa: E402
from companion.models import Role  # noqa: E402
from companion.runtime import open_runtime  # noqa: E402
from companion.service import ChatService  # noqa: E402
from companion.settings import Settings  # noqa: E402

MODULE_ANSWERS = [  # one whole thought record, then back to the menu
    "Thought record", "next", "In a meeting my manager asked about the late report",
    "anxious 70, embarrassed 50", "They think I am useless", "The report was late",
    "I delivered the last three on time", "I was late once, and I am usually reliable", "40 20",
    "Something else",
]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def companion_turns(turns: int, data_dir: Path) -> list[float]:
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    runtime = open_runtime(settings)
    with Session(runtime.engine) as session:
        patient = create_user(session, username="bench", role=Role.PATIENT, password="benchmark-password")
        session.commit()
    service = ChatService(runtime)
    service.open_chat(user_id=patient.id)
    service.handle_message(user_id=patient.id, text="I agree", turn_id=str(uuid.uuid4()))
    service.handle_message(user_id=patient.id, text="6", turn_id=str(uuid.uuid4()))
    timings: list[float] = []
    while len(timings) < turns:
        for text in MODULE_ANSWERS:
            start = time.perf_counter()
            service.handle_message(user_id=patient.id, text=text, turn_id=str(uuid.uuid4()))
            timings.append((time.perf_counter() - start) * 1000)
    runtime.close()
    return timings[:turns]


class BareState(TypedDict, total=False):
    text: str
    count: int


def bare_turns(turns: int, data_dir: Path) -> list[float]:
    def echo(state: BareState) -> BareState:
        return {"count": state.get("count", 0) + 1}

    builder: StateGraph[BareState] = StateGraph(BareState)
    builder.add_node("echo", echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    conn = sqlite3.connect(str(data_dir / "bare.sqlite3"), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    saver = SqliteSaver(conn)
    saver.setup()
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "bench"}}
    timings = []
    for i in range(turns):
        start = time.perf_counter()
        graph.invoke({"text": f"message {i}"}, config, durability="exit")
        timings.append((time.perf_counter() - start) * 1000)
    conn.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        bare_turns(20, data_dir)  # warm-up
        bare = bare_turns(args.turns, data_dir)
        full = companion_turns(args.turns, data_dir / "var")
    print(f"turns: {args.turns} (SQLite, scripted personaliser, no LLM)")
    print(f"{'':<24}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, samples in (("bare LangGraph graph", bare), ("Companion turn", full)):
        print(f"{name:<24}{percentile(samples, 0.5):>10.2f}{percentile(samples, 0.95):>10.2f}{statistics.fmean(samples):>10.2f}")
    print(f"ratio Companion/bare:   p50 x{percentile(full, 0.5) / percentile(bare, 0.5):.1f}, "
          f"p95 x{percentile(full, 0.95) / percentile(bare, 0.95):.1f}")
    print("goal: Companion p95 under 30 ms per turn on this machine, excluding any LLM time")


if __name__ == "__main__":
    main()
