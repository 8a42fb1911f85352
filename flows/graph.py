"""Wiring only: the nodes and edges of one patient turn. `check_safety` is the single entry."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from flows.context import TurnContext
from flows.nodes.check_in import check_in
from flows.nodes.check_safety import check_safety
from flows.nodes.consent import consent
from flows.nodes.escalate import escalate
from flows.nodes.get_help import get_help
from flows.nodes.homework_review import homework_review
from flows.nodes.input_problem import input_problem
from flows.nodes.menu import menu
from flows.nodes.module_step import module_step
from flows.nodes.questionnaire import questionnaire
from flows.nodes.record_answer import record_answer
from flows.nodes.screening import screening
from flows.nodes.share_summary import share_summary
from flows.nodes.summary import summary
from flows.routing import (
    route_after_check_in,
    route_after_consent,
    route_after_homework,
    route_after_menu,
    route_after_questionnaire,
    route_after_safety,
    route_after_screening,
    route_after_share,
    route_after_step_change,
)
from flows.state import ConversationState

__all__ = ["build_graph"]


def build_graph() -> StateGraph[ConversationState, TurnContext]:
    """Return the uncompiled graph; callers compile it with their own checkpointer."""
    graph: StateGraph[ConversationState, TurnContext] = StateGraph(ConversationState, context_schema=TurnContext)
    for node in (
        check_safety, escalate, screening, get_help, input_problem, consent,
        check_in, homework_review, menu, module_step, questionnaire, record_answer, summary, share_summary,
    ):
        graph.add_node(node.__name__, node)
    graph.add_edge(START, "check_safety")
    graph.add_conditional_edges("check_safety", route_after_safety)
    graph.add_conditional_edges("screening", route_after_screening)
    graph.add_conditional_edges("consent", route_after_consent)
    graph.add_conditional_edges("check_in", route_after_check_in)
    graph.add_conditional_edges("homework_review", route_after_homework)
    graph.add_conditional_edges("menu", route_after_menu)
    graph.add_conditional_edges("questionnaire", route_after_questionnaire)
    graph.add_conditional_edges("share_summary", route_after_share)
    graph.add_conditional_edges("record_answer", route_after_step_change)
    for terminal in ("escalate", "get_help", "input_problem", "module_step", "summary"):
        graph.add_edge(terminal, END)
    return graph
