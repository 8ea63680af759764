"""The RAG graph: retrieve, then answer citing numbered sources. Returned uncompiled."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from framework.agents.state import RagState
from framework.tools.untrusted import document_block, with_data_rule

Retriever = Callable[[str, int], list[dict[str, Any]]]

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant. Answer the question using the numbered sources. "
    "Cite the sources you use with their numbers in square brackets, like [1]. "
    "If the sources do not contain the answer, say that you do not know."
)

_FOLLOW_UP_WORDS = 6


def retrieval_query(question: str, history: list[BaseMessage]) -> str:
    """A short follow-up ("and its price?") is searched together with the previous question."""
    previous = [m.text for m in history if isinstance(m, HumanMessage)]
    if previous and len(question.split()) < _FOLLOW_UP_WORDS:
        return f"{previous[-1]} {question}"
    return question


def format_sources(hits: list[dict[str, Any]], max_chars: int = 1200) -> str:
    """The hits as numbered ``<document>`` blocks (retrieved text is data, not instructions)."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        meta = hit.get("metadata", {})
        title = meta.get("title") or meta.get("doc_id") or ""
        blocks.append(document_block(n, title, hit["text"][:max_chars]))
    return "\n\n".join(blocks)


def answer_prompt(system_prompt: str, history: list[BaseMessage], hits: list[dict[str, Any]],
                  question: str) -> list[BaseMessage]:
    """The answer node's messages: the system prompt with the data rule, history, sources, question.

    Measured on kb_qa with the bundled 0.5B model (benchmarks/rag_citations.py), instructions
    next to the question made answers worse: a one-shot marker example was copied verbatim, a
    "write [n] after each sentence" line gave bare "[1][2]" answers, and an explicit "else reply I
    do not know" line made it decline answerable questions. So the prompt stays as it was and
    :func:`finish_answer` makes the citations."""
    sources = format_sources(hits) if hits else "(no sources found)"
    return [SystemMessage(content=with_data_rule(system_prompt)), *history,
            HumanMessage(content=f"Sources:\n{sources}\n\nQuestion: {question}")]


# ---- citation markers ---------------------------------------------------------------------------
# A marker is ``[n]``; models also write ``[1, 2]``, ``[1-2]`` or ``[Source 1]``, which are
# rewritten as ``[1][2]``. A number with no source behind it is removed from the answer.

_CITE = re.compile(r"\[(\d{1,3})\]")
_MARKER_LIKE = re.compile(r"\s?\[(?:sources?\s*|doc(?:ument)?\s*)?(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]",
                          re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_MARKER_RUN = re.compile(r"(?:\[\d{1,3}\]\s*){2,}")
_CUT_MARKER = re.compile(r"\s*\[\d{0,3}$")
_WORD = re.compile(r"[a-z0-9][a-z0-9_.:/-]*[a-z0-9]|[a-z0-9]|[\u3400-\u9fff]", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+")
_STOP = frozenset("""a an the and or but if of to in on at by for with from as is are was were be
been being it its this that these those there their they them you your we our i he she his her
can could will would should may might must do does did done not no yes so than then into about
which what who whom whose when where why how also only just such any all each every some more
most other same one two has have had use used using""".split())
_UNKNOWN = re.compile(r"\b(?:(?:do|does)\s+not|don't|doesn't|cannot|can't)\s+(?:know|say|contain|"
                      r"mention|answer)|\bno (?:information|answer)\b", re.IGNORECASE)
# An inferred citation needs this share of a sentence's content words in one source
INFER_MIN_OVERLAP = 0.5
INFER_MIN_WORDS = 2


def parse_markers(answer: str, n_sources: int) -> tuple[str, list[int], list[int]]:
    """``(text, valid, invalid)``: the answer with its markers written as ``[n]`` and those
    pointing at no source (``n`` outside 1..n_sources) removed, the valid numbers and the removed
    ones, each in order of first use."""
    valid: list[int] = []
    invalid: list[int] = []

    def rewrite(match: re.Match[str]) -> str:
        kept = []
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            n = int(part)
            if 1 <= n <= n_sources:
                kept.append(n)
                if n not in valid:
                    valid.append(n)
            elif n not in invalid:
                invalid.append(n)
        lead = " " if match.group(0)[0].isspace() else ""
        return lead + "".join(f"[{n}]" for n in kept) if kept else ""

    text = _MARKER_LIKE.sub(rewrite, answer)
    text = _MARKER_RUN.sub(_dedupe_run, text)  # "[1] [1] [1] ..." (a small model's loop) -> "[1]"
    text = _CUT_MARKER.sub("", text)  # a marker cut off by max_tokens
    if invalid:
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text).strip()
    return text, valid, invalid


def _dedupe_run(match: re.Match[str]) -> str:
    numbers = list(dict.fromkeys(_CITE.findall(match.group(0))))
    tail = match.group(0)[len(match.group(0).rstrip()):]
    return "".join(f"[{n}]" for n in numbers) + tail


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP}


def infer_sources(answer: str, hits: list[dict[str, Any]]) -> list[int]:
    """The sources an answer without markers draws on: for each sentence, the source sharing the
    most of its content words, when that is at least :data:`INFER_MIN_OVERLAP` of them (and at
    least :data:`INFER_MIN_WORDS` words). An "I do not know" answer draws on none."""
    if not hits or _UNKNOWN.search(answer):
        return []
    sources = [_content_words(hit.get("text", "")) for hit in hits]
    found: list[int] = []
    for sentence in _SENTENCE.split(answer.strip()):
        words = _content_words(sentence)
        if len(words) < INFER_MIN_WORDS:
            continue
        shared = [len(words & src) for src in sources]
        best = max(range(len(hits)), key=lambda i: (shared[i], -i))
        if shared[best] >= max(INFER_MIN_WORDS, INFER_MIN_OVERLAP * len(words)):
            if best + 1 not in found:
                found.append(best + 1)
    return found


def _citation(hit: dict[str, Any], n: int, cited: bool, inferred: bool) -> dict[str, Any]:
    meta = hit.get("metadata", {})
    return {"index": n, "id": hit.get("id"), "doc_id": meta.get("doc_id"),
            "source": meta.get("source"), "title": meta.get("title"), "score": hit.get("score"),
            "text": hit["text"], "cited": cited, "inferred": inferred}


def citations_for(answer: str, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sources the answer cites by number; every source given when it cites none."""
    cited = sorted({int(m) for m in _CITE.findall(answer) if 1 <= int(m) <= len(hits)})
    numbers = cited or list(range(1, len(hits) + 1))
    return [_citation(hits[n - 1], n, bool(cited), False) for n in numbers]


def finish_answer(answer: str, hits: list[dict[str, Any]], *,
                  infer: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The answer as stored and its citations.

    Markers the model wrote are normalised and invalid ones removed (:func:`parse_markers`); the
    citations they name say ``"cited": true, "inferred": false``. When the model wrote none and
    ``infer`` is on, the sources the answer's sentences overlap most (:func:`infer_sources`) are
    appended as markers at the end and their citations say ``"inferred": true``: a derived
    citation, never passed off as the model's. With no marker at all, every source is listed with
    ``"cited": false``, as before."""
    text, valid, _invalid = parse_markers(answer, len(hits))
    if valid:
        return text, [_citation(hits[n - 1], n, True, False) for n in sorted(valid)]
    found = infer_sources(text, hits) if infer else []
    if found:
        suffix = " " + "".join(f"[{n}]" for n in found)
        return text + suffix, [_citation(hits[n - 1], n, True, True) for n in sorted(found)]
    return text, [_citation(hit, n, False, False) for n, hit in enumerate(hits, start=1)]


REWRITE_PROMPT = (
    "Rewrite the last question as one standalone search query, using the conversation for "
    "context. Reply with the query only.\n\nConversation:\n{history}\n\nLast question: {question}"
)


def rewrite_with_model(model: BaseChatModel, question: str, history: list[BaseMessage]) -> str:
    """A follow-up rewritten by the model into a standalone query (the question when no history)."""
    if not any(isinstance(m, HumanMessage) for m in history):
        return question
    lines = "\n".join(f"{m.type}: {m.text}" for m in history[-6:])
    text = model.invoke([HumanMessage(content=REWRITE_PROMPT.format(history=lines,
                                                                    question=question))]).text
    first = str(text).strip().strip('"').splitlines()
    return (first[0].strip() if first else "") or question


def build_rag_graph(model: BaseChatModel, retriever: Retriever, *, k: int = 4,
                    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
                    history_turns: int = 4, rewrite: str = "heuristic",
                    infer_citations: bool = True) -> StateGraph:
    """retrieve -> answer. ``retriever(query, k)`` returns hit dicts (id, score, text, metadata).

    ``rewrite``: how a follow-up becomes a search query: ``heuristic`` (short follow-ups are
    prefixed with the previous question), ``model`` (the model rewrites it) or ``none``.
    ``infer_citations``: when the model writes no ``[n]`` marker, append the markers of the
    sources the answer overlaps (flagged ``"inferred": true``; see :func:`finish_answer`).
    """

    def retrieve(state: RagState) -> dict[str, Any]:
        history = state.get("messages", [])
        if rewrite == "model":
            query = rewrite_with_model(model, state["question"], history)
        elif rewrite == "none":
            query = state["question"]
        else:
            query = retrieval_query(state["question"], history)
        return {"query": query, "hits": retriever(query, k)}

    def answer(state: RagState) -> dict[str, Any]:
        history = state.get("messages", [])[-2 * history_turns:]
        hits = state.get("hits", [])
        reply = model.invoke(answer_prompt(system_prompt, history, hits, state["question"]))
        written = reply.text.strip()
        text, citations = finish_answer(written, hits, infer=infer_citations)
        if text.startswith(written) and len(text) > len(written):
            # the appended (inferred) markers reach a streaming caller as the answer's last token
            get_stream_writer()({"event": "token", "text": text[len(written):], "node": "answer"})
        usage = dict(reply.usage_metadata or {}) if isinstance(reply, AIMessage) else {}
        return {
            "messages": [HumanMessage(content=state["question"]), AIMessage(content=text)],
            "answer": text,
            "citations": citations,
            "usage": {key: int(usage.get(key) or 0)  # type: ignore[call-overload]
                      for key in ("input_tokens", "output_tokens", "total_tokens")},
        }

    graph = StateGraph(RagState)
    graph.add_node("retrieve", retrieve)
    graph.add_node("answer", answer)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "answer")
    graph.add_edge("answer", END)
    return graph
