"""An app with a crisis guardrail on the fake model that fails when called, per graph kind."""

from __future__ import annotations

import textwrap
from pathlib import Path

GUARD = textwrap.dedent("""\
    guardrails:
      - kind: crisis
        message:
          en: "Please call 988 now. This is information, not a diagnosis."
    """)

GRAPHS = {
    "chat": "graph:\n  kind: chat\n",
    "agent": "graph:\n  kind: agent\n  tools: []\n",
    "rag": "graph:\n  kind: rag\n",
    "workflow": textwrap.dedent("""\
        graph:
          kind: workflow
          answer: reply
          nodes:
            - {id: reply, kind: llm, prompt: "{question}"}
            - {id: polish, kind: llm, prompt: "{reply}", output: polished}
          edges:
            - {from: start, to: reply}
            - {from: reply, to: polish}
            - {from: polish, to: end}
        """),
}


def write_app(folder: Path, graph: str, model: str = "fake:fail") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.yaml"
    path.write_text(f"spec_version: 1\nname: guarded\nmodel: {model}\n"
                    f"checkpoints: {{backend: memory}}\n{graph}{GUARD}")
    return path
