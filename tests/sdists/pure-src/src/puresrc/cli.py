from puresrc import greet


def main() -> int:
    print(greet("world"))
    return 0
