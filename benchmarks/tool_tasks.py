"""A fixed set of tool tasks for the tool-call benchmark: tools, prompts, expected calls."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import tool


@tool
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@tool
def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return "sunny"


@tool
def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
    """Convert an amount of money from one currency (ISO code like USD) to another."""
    return amount


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email with a subject line to an address."""
    return "sent"


@tool
def search_docs(query: str) -> list[str]:
    """Search the documentation for a query."""
    return []


TOOLS = [add, multiply, get_weather, convert_currency, send_email, search_docs]

TASKS: list[dict[str, Any]] = [
    {"prompt": "What is 17 plus 25?", "name": "add", "args": {"a": 17, "b": 25}},
    {"prompt": "Add 3.5 and 4.25 for me.", "name": "add", "args": {"a": 3.5, "b": 4.25}},
    {"prompt": "What do you get when you sum 1200 and 34?", "name": "add", "args": {"a": 1200, "b": 34}},
    {"prompt": "Compute 12 times 12.", "name": "multiply", "args": {"a": 12, "b": 12}},
    {"prompt": "Multiply 7 by 6.", "name": "multiply", "args": {"a": 7, "b": 6}},
    {"prompt": "What is the product of 2.5 and 40?", "name": "multiply", "args": {"a": 2.5, "b": 40}},
    {"prompt": "What's the weather like in Paris right now?", "name": "get_weather",
     "args": {"city": "paris"}},
    {"prompt": "Is it raining in Tokyo?", "name": "get_weather", "args": {"city": "tokyo"}},
    {"prompt": "北京今天天气怎么样？", "name": "get_weather", "args": {"city": "北京"}},
    {"prompt": "Tell me the weather in Berlin.", "name": "get_weather", "args": {"city": "berlin"}},
    {"prompt": "Convert 100 USD to EUR.", "name": "convert_currency",
     "args": {"amount": 100, "from_currency": "usd", "to_currency": "eur"}},
    {"prompt": "How much is 250 euros in Japanese yen (EUR to JPY)?", "name": "convert_currency",
     "args": {"amount": 250, "from_currency": "eur", "to_currency": "jpy"}},
    {"prompt": "Change 80 GBP into USD.", "name": "convert_currency",
     "args": {"amount": 80, "from_currency": "gbp", "to_currency": "usd"}},
    {"prompt": "Email bob@example.com with the subject 'Lunch tomorrow'.", "name": "send_email",
     "args": {"to": "bob@example.com", "subject": "lunch tomorrow"}},
    {"prompt": "Send an email to alice@example.org, subject: Quarterly report.", "name": "send_email",
     "args": {"to": "alice@example.org", "subject": "quarterly report"}},
    {"prompt": "Write to ops@example.net with subject 'Server down'.", "name": "send_email",
     "args": {"to": "ops@example.net", "subject": "server down"}},
    {"prompt": "Search the docs for 'rate limit'.", "name": "search_docs",
     "args": {"query": "rate limit"}},
    {"prompt": "Look up how to configure retries in the documentation.", "name": "search_docs",
     "args": {"query": "retr"}},
    {"prompt": "Find documentation about FAISS indexes.", "name": "search_docs",
     "args": {"query": "faiss"}},
    {"prompt": "What is 9 multiplied by 11?", "name": "multiply", "args": {"a": 9, "b": 11}},
    {"prompt": "Please add 0.1 and 0.2.", "name": "add", "args": {"a": 0.1, "b": 0.2}},
    {"prompt": "What's the weather in São Paulo?", "name": "get_weather",
     "args": {"city": "paulo"}},
]


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return abs(float(actual) - float(expected)) < 1e-6
        except (TypeError, ValueError):
            return False
    return str(expected).lower() in str(actual).lower()


def check_call(calls: list[dict[str, Any]], task: dict[str, Any]) -> int:
    """1 when the first call names the expected tool with the expected arguments."""
    if not calls or calls[0]["name"] != task["name"]:
        return 0
    args = calls[0]["args"]
    return int(all(k in args and _matches(v, args[k]) for k, v in task["args"].items()))
