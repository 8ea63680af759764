"""Exported node code for the chat, rag, agent and supervisor graph kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.spec.models import AppSpec


def chat(spec: AppSpec, base_dir: Path | None = None) -> list[str]:
    g: Any = spec.graph
    return [
        "from framework.agents.memory import history_for  # noqa: E402  (window/summary memory)",
        f"MEMORY = argparse.Namespace(kind={spec.memory.kind!r}, turns={spec.memory.turns})",
        "ANSWER_NODES = {'chat'}",
        "",
        "",
        "def build_graph(models: dict[str, Any] | None = None) -> StateGraph:",
        "    models = models or load_models()",
        f"    model = models[{g.model!r}]",
        "",
        "    def chat(state: State, config: RunnableConfig) -> dict[str, Any]:",
        "        history, update = history_for(dict(state), MEMORY, model)",
        "        question = HumanMessage(content=state['question'])",
        "        reply = model.invoke([SystemMessage(content=SYSTEM_PROMPT), *history, question],"
        " config)",
        "        text = reply.text.strip()",
        "        return {'messages': [question, AIMessage(content=text)], 'answer': text,",
        "                'citations': [], **update}",
        "",
        "    graph = StateGraph(State)",
        "    graph.add_node('chat', chat)",
        "    graph.add_edge(START, 'chat')",
        "    graph.add_edge('chat', END)",
        "    return graph",
    ]


def agent(spec: AppSpec, base_dir: Path | None = None) -> list[str]:
    g: Any = spec.graph
    names = g.tools
    return [
        "from framework.agents.agent import current_turn  # noqa: E402",
        "from framework.agents.memory import history_for  # noqa: E402",
        "from framework.agents.toolcalls import (  # noqa: E402  (prompted tool calls when needed)",
        "    final_answer_caller, looping, run_tool_calls, tool_caller)",
        f"MEMORY = argparse.Namespace(kind={spec.memory.kind!r}, turns={spec.memory.turns})",
        f"AGENT_TOOLS = {names!r}  # None: every tool",
        f"FIRST_STEP = {g.first_step!r}  # 'tool' or a tool name: the first call calls it",
        "ANSWER_NODES = {'agent'}",
        "",
        "",
        "def build_graph(models: dict[str, Any] | None = None, tools: dict[str, Any] | None = None"
        ") -> StateGraph:",
        "    models = models or load_models()",
        "    tools = tools if tools is not None else load_tools()",
        f"    model = models[{g.model!r}]",
        "    chosen = list(tools.values()) if AGENT_TOOLS is None else "
        "[tools[n] for n in AGENT_TOOLS]",
        "    by_name = {t.name: t for t in chosen}",
        "    caller, final = tool_caller(model, chosen), final_answer_caller(model)",
        "    choice = {'auto': None, 'tool': 'any'}.get(FIRST_STEP, FIRST_STEP)",
        "    first = tool_caller(model, chosen, choice) if choice else caller",
        "",
        "    def agent(state: State, config: RunnableConfig) -> dict[str, Any]:",
        "        steps = int(state.get('steps', 0))",
        "        new = [HumanMessage(content=state['question'])] if steps == 0 else []",
        "        if steps >= MAX_STEPS:",
        "            raise RuntimeError(f'the agent used its {MAX_STEPS} steps without answering')",
        "        history, update = history_for({**state, 'messages': [*state.get('messages', []),"
        " *new]},",
        "                                      MEMORY, model)",
        "        call = final if looping(state.get('messages', [])) else (first if steps == 0 else "
        "caller)",
        "        reply = call([SystemMessage(content=SYSTEM_PROMPT), *history], config)",
        "        answer = '' if reply.tool_calls else reply.text.strip()",
        "        if not reply.tool_calls:",
        "            reply = AIMessage(content=answer, usage_metadata=reply.usage_metadata, "
        "id=reply.id)",
        "        return {'messages': [*new, reply], 'steps': steps + 1, 'answer': answer,",
        "                'citations': [], **update}",
        "",
        "    def run_tools(state: State) -> dict[str, Any]:",
        "        earlier = current_turn(state['messages'])",
        "        calls = state['messages'][-1].tool_calls",
        "        return {'messages': run_tool_calls(by_name, [dict(c) for c in calls], earlier)}",
        "",
        "    def route(state: State) -> str:",
        "        last = state['messages'][-1]",
        "        return 'tools' if isinstance(last, AIMessage) and last.tool_calls else END",
        "",
        "    graph = StateGraph(State)",
        "    graph.add_node('agent', agent)",
        "    graph.add_node('tools', run_tools)",
        "    graph.add_edge(START, 'agent')",
        "    graph.add_conditional_edges('agent', route, ['tools', END])",
        "    graph.add_edge('tools', 'agent')",
        "    return graph",
    ]


def supervisor(spec: AppSpec, base_dir: Path | None = None) -> list[str]:
    g: Any = spec.graph
    agents = [{"name": a.name, "description": a.description, "tools": a.tools,
               "prompt": a.prompt, "model": a.model} for a in g.agents]
    return [
        "from framework.agents.supervisor import Member, build_supervisor_nodes  # noqa: E402",
        f"AGENTS = {agents!r}",
        f"MAX_ROUNDS = {g.max_rounds}",
        "ANSWER_NODES = {a['name'] for a in AGENTS}",
        "",
        "",
        "def build_graph(models: dict[str, Any] | None = None, tools: dict[str, Any] | None = None"
        ") -> StateGraph:",
        "    models = models or load_models()",
        "    tools = tools if tools is not None else load_tools()",
        "    members = [Member(a['name'], a['description'], models[a['model']],",
        "                      [tools[t] for t in a['tools']], a['prompt']) for a in AGENTS]",
        "    # the supervisor picks the next agent (or FINISH); each agent runs its own tool loop",
        f"    supervise, agent_nodes = build_supervisor_nodes(models[{g.model!r}], members,",
        "        system_prompt=SYSTEM_PROMPT, max_rounds=MAX_ROUNDS, max_steps=MAX_STEPS)",
        "",
        "    def supervisor(state: State, config: RunnableConfig) -> Command:",
        "        return supervise(state, config)",
        "",
        "    def agent_node(name: str) -> Any:",
        "        def run(state: State, config: RunnableConfig) -> Command:",
        "            return agent_nodes[name](state, config)",
        "        return run",
        "",
        "    graph = StateGraph(State)",
        "    graph.add_node('supervisor', supervisor,",
        "                   destinations=(*[a['name'] for a in AGENTS], END))",
        "    for a in AGENTS:",
        "        graph.add_node(a['name'], agent_node(a['name']), destinations=('supervisor',))",
        "    graph.add_edge(START, 'supervisor')",
        "    return graph",
    ]


def _store(kb: Any, base_dir: Path | None) -> Any:
    """A knowledge base's store for the program: a name, or its options as a plain mapping
    (paths made absolute against the app's folder; secrets stay ``env:NAME`` references)."""
    if kb.store is None or isinstance(kb.store, str):
        return kb.store
    return {"type": kb.store.type, **kb.store.options((base_dir or Path(".")).resolve())}


def rag(spec: AppSpec, base_dir: Path | None = None) -> list[str]:
    g: Any = spec.graph
    kbs = [{"name": k.name, "path": k.path, "embeddings": k.embeddings, "store": _store(k, base_dir),
            "chunk_size": k.chunk_size, "chunk_overlap": k.chunk_overlap, "search": k.search,
            "bm25_weight": k.bm25_weight} for k in spec.knowledge]
    app_dir = str((base_dir or Path(".")).resolve())
    return [
        "from pathlib import Path  # noqa: E402",
        "from framework import KnowledgeBase  # noqa: E402",
        "from framework.agents.rag import answer_prompt, finish_answer, retrieval_query  # noqa: E402",
        "from framework.paths import subdir  # noqa: E402",
        f"KNOWLEDGE = {kbs!r}  # folders relative to APP_DIR",
        f"APP_DIR = Path({app_dir!r})  # the folder of the exported app.yaml",
        f"K, HISTORY_TURNS = {g.k}, {g.history_turns}",
        "ANSWER_NODES = {'answer'}",
        "",
        "",
        "def open_knowledge(base: Path, home: Path) -> list[Any]:",
        "    out = []",
        "    for kb in KNOWLEDGE:",
        "        store = KnowledgeBase(home / kb['name'], kb['embeddings'], "
        "chunk_size=kb['chunk_size'],",
        "                              chunk_overlap=kb['chunk_overlap'], store=kb['store'])",
        "        store.sync(base / kb['path'])",
        "        out.append(store)",
        "    return out",
        "",
        "",
        "def build_graph(models: dict[str, Any] | None = None, kbs: list[Any] | None = None,",
        "                base: Path = APP_DIR, home: Path | None = None) -> StateGraph:",
        "    models = models or load_models()",
        f"    model = models[{g.model!r}]",
        f"    home = home or subdir('exports', {spec.name!r}, 'kb')  # the OpenBuilder data folder",
        "    kbs = kbs if kbs is not None else open_knowledge(base, home)",
        "",
        "    def retrieve(state: State) -> dict[str, Any]:",
        "        query = retrieval_query(state['question'], state.get('messages', []))",
        "        hits = sorted((h for kb, cfg in zip(kbs, KNOWLEDGE, strict=True)",
        "                       for h in kb.search(query, k=K, mode=cfg['search'],",
        "                                          bm25_weight=cfg['bm25_weight'])),",
        "                      key=lambda h: h.score, reverse=True)[:K]",
        "        return {'query': query, 'hits': [h.as_dict() for h in hits]}",
        "",
        "    def answer(state: State) -> dict[str, Any]:",
        "        history = state.get('messages', [])[-2 * HISTORY_TURNS:]",
        "        hits = state.get('hits', [])",
        "        # retrieved text goes in <document> blocks; the system prompt says it is data",
        "        prompt = answer_prompt(SYSTEM_PROMPT, history, hits, state['question'])",
        "        # markers the model did not write are appended as inferred citations",
        "        text, citations = finish_answer(model.invoke(prompt).text.strip(), hits)",
        "        return {'messages': [HumanMessage(content=state['question']), "
        "AIMessage(content=text)],",
        "                'answer': text, 'citations': citations}",
        "",
        "    graph = StateGraph(State)",
        "    graph.add_node('retrieve', retrieve)",
        "    graph.add_node('answer', answer)",
        "    graph.add_edge(START, 'retrieve')",
        "    graph.add_edge('retrieve', 'answer')",
        "    graph.add_edge('answer', END)",
        "    return graph",
    ]
