"""The wiring: every turn enters at check_safety, and nothing reaches the patient around it."""

from __future__ import annotations

from flows.graph import build_graph


def edges() -> set[tuple[str, str]]:
    graph = build_graph().compile().get_graph()
    return {(edge.source, edge.target) for edge in graph.edges}


def test_the_only_entry_edge_goes_to_check_safety() -> None:
    from_start = {target for source, target in edges() if source == "__start__"}
    assert from_start == {"check_safety"}


def test_check_safety_is_entered_only_from_start() -> None:
    into = {source for source, target in edges() if target == "check_safety"}
    assert into == {"__start__"}


def test_every_node_is_reached_only_through_check_safety() -> None:
    graph = edges()
    reachable, frontier = set(), ["check_safety"]
    while frontier:
        node = frontier.pop()
        for source, target in graph:
            if source == node and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    nodes = {n for edge in graph for n in edge} - {"__start__", "__end__", "check_safety"}
    assert nodes <= reachable, "every node is downstream of check_safety"


def test_risk_routes_lead_to_escalation() -> None:
    graph = edges()
    assert ("check_safety", "escalate") in graph and ("screening", "escalate") in graph
    assert ("escalate", "__end__") in graph
