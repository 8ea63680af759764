"""An existing FastAPI service that answers questions through an OpenBuilder app.

    OPENBUILDER_URL=http://127.0.0.1:8000 OPENBUILDER_API_KEY=obk_... OPENBUILDER_APP=kb_qa \\
        uvicorn examples.fastapi_service:service --port 9000
    curl -X POST localhost:9000/ask -H 'content-type: application/json' -d '{"question": "Hi?"}'
"""

from __future__ import annotations

import os

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

service = FastAPI(title="My existing service")


class Ask(BaseModel):
    question: str
    conversation: str | None = None


class Reply(BaseModel):
    answer: str
    sources: list[str]
    tokens: int


@service.post("/ask", response_model=Reply)
async def ask(body: Ask) -> Reply:
    url = os.environ.get("OPENBUILDER_URL", "http://127.0.0.1:8000") + "/v1/chat/completions"
    headers = {"Authorization": f"Bearer {os.environ['OPENBUILDER_API_KEY']}"}
    if body.conversation:
        headers["X-OpenBuilder-Thread"] = body.conversation
    payload = {"model": os.environ.get("OPENBUILDER_APP", "kb_qa"),
               "messages": [{"role": "user", "content": body.question}]}
    async with httpx.AsyncClient(timeout=120) as client:
        resp = await client.post(url, json=payload, headers=headers)
    if resp.status_code != 200:
        raise HTTPException(502, f"OpenBuilder answered {resp.status_code}: "
                                 f"{resp.json()['error']['message']}")
    data = resp.json()
    return Reply(answer=data["choices"][0]["message"]["content"],
                 sources=[c["source"] for c in data["openbuilder"]["citations"]],
                 tokens=data["usage"]["total_tokens"])


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(service, host="127.0.0.1", port=int(os.environ.get("PORT", "9000")))
