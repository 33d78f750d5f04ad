"""pure-src: a pure-Python sample package."""

GREETING = "hello from pure-src"


def greet(name: str) -> str:
    return f"{GREETING}, {name}"
