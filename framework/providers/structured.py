"""``with_structured_output`` for models that sample under a grammar (llama.cpp).

``json_schema`` (default) constrains the output to the schema; ``function_calling`` forces a call
of a tool built from the schema; ``json_mode`` constrains it to any JSON object. Either way the
output parses; a Pydantic schema is then validated into its class.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

METHODS = ("json_schema", "function_calling", "json_mode")


def structured_runnable(model: BaseChatModel, schema: dict[str, Any] | type, *, include_raw: bool,
                        method: str, strict: bool | None) -> Runnable[Any, Any]:
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not supported; use one of {', '.join(METHODS)}")
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    trace = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
    parser: Runnable[Any, Any]
    if method == "function_calling":
        name = convert_to_openai_tool(schema)["function"]["name"]
        llm = model.bind_tools([schema], tool_choice=name, ls_structured_output_format=trace)
        parser = (PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
                  if is_pydantic
                  else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True))
    else:
        if method == "json_schema":
            fmt = {"type": "json_schema", "json_schema": {"schema": convert_to_json_schema(schema)}}
        else:
            # any JSON object; the schema is still told to the model
            fmt = {"type": "json_object", "schema": convert_to_json_schema(schema)}
        llm = model.bind(response_format=fmt, ls_structured_output_format=trace)
        parser = (PydanticOutputParser(pydantic_object=schema) if is_pydantic  # type: ignore[arg-type]
                  else JsonOutputParser())
    if not include_raw:
        return llm | parser
    assign = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser,
                                        parsing_error=lambda _: None)
    none = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | assign.with_fallbacks([none], exception_key="parsing_error")
