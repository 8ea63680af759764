"""Use an OpenBuilder app as a LangChain chat model (`ChatOpenAI`) inside your own chain.

    OPENBUILDER_URL=http://127.0.0.1:8000 OPENBUILDER_API_KEY=obk_... \\
        python examples/langchain_chat_openai.py kb_qa "What is OpenBuilder?"
"""

from __future__ import annotations

import os
import sys

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI


def main(app: str, question: str) -> None:
    llm = ChatOpenAI(model=app, base_url=os.environ.get("OPENBUILDER_URL",
                                                         "http://127.0.0.1:8000") + "/v1",
                     api_key=os.environ["OPENBUILDER_API_KEY"],  # type: ignore[arg-type]
                     stream_usage=True, max_retries=1)
    chain = ChatPromptTemplate.from_messages([("user", "{question}")]) | llm | StrOutputParser()
    print("chain answer:", chain.invoke({"question": question}))
    reply = llm.invoke(question)
    print("usage:", reply.usage_metadata)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "kb_qa",
         sys.argv[2] if len(sys.argv) > 2 else "What is OpenBuilder?")
