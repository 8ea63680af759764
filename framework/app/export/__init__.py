"""Pieces of exported programs: a readable Python program that builds the app's graph with
LangGraph directly (``StateGraph``, ``add_node``, ``add_edge``), one function per node.

``framework.app.exporting.export_python`` assembles them. The program uses OpenBuilder only for
what LangGraph does not have: models by id (``framework.get_model``), registered tools
(``framework.tools.get_tool``) and, for tool-calling agents, the tool-call helpers (prompted tool
calls for models without native ones).
"""
