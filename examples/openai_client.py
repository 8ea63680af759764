"""Call an OpenBuilder app with the official `openai` client.

    openbuilder serve apps &                       # the server
    openbuilder keys create --app kb_qa            # prints a key on its last line
    OPENBUILDER_URL=http://127.0.0.1:8000 OPENBUILDER_API_KEY=obk_... \\
        python examples/openai_client.py kb_qa "What is OpenBuilder?"
"""

from __future__ import annotations

import os
import sys

from openai import OpenAI


def main(app: str, question: str) -> None:
    client = OpenAI(base_url=os.environ.get("OPENBUILDER_URL", "http://127.0.0.1:8000") + "/v1",
                    api_key=os.environ["OPENBUILDER_API_KEY"])
    print("models:", ", ".join(m.id for m in client.models.list()))
    reply = client.chat.completions.create(
        model=app, messages=[{"role": "user", "content": question}],
        extra_headers={"X-OpenBuilder-Thread": "example-thread"})  # keeps the conversation
    print("answer:", reply.choices[0].message.content)
    print("usage:", reply.usage.model_dump() if reply.usage else None)
    for cite in (reply.model_extra or {}).get("openbuilder", {}).get("citations", []):
        print(f"  [{cite['index']}] {cite['source']}")
    print("streamed: ", end="")
    stream = client.chat.completions.create(
        model=app, messages=[{"role": "user", "content": question}], stream=True,
        stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.choices:
            print(chunk.choices[0].delta.content or "", end="", flush=True)
        elif chunk.usage:
            print(f"\nstream usage: {chunk.usage.total_tokens} tokens")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "kb_qa",
         sys.argv[2] if len(sys.argv) > 2 else "What is OpenBuilder?")
