"""``pthreaddemo``: print each pthread call's result as sorted JSON, one line."""

import json

import pthreaddemo


def main():
    print(json.dumps(pthreaddemo.results(), sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
