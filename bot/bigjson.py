"""A large delivery parsed a member at a time (round 19c A3).

`json.loads` is one C call: on a 20 MB push delivery (a fork's commits with long messages,
signed by GitHub) it held the web worker's GIL for 75-100 ms, and every other tenant's
request on that worker waited. Here the outer two levels (the payload object, and each
array or object directly in it, such as `commits`) are walked in Python and each member is
parsed on its own by the standard decoder, so the interpreter can switch threads between
members; the text is decoded from UTF-8 a slice at a time for the same reason. The result
and what is refused are json.loads's: the same decoder reads every value.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from forkvet import safeparse

# Below this, json.loads at once (milliseconds).
STEPWISE_BYTES = 1024 * 1024
DECODE_CHUNK = 256 * 1024
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


def loads(body: bytes) -> Any:
    """json.loads(body) (through safeparse: a number too long or nesting too deep is a
    JSONDecodeError), a member at a time when the body is large."""
    if len(body) < STEPWISE_BYTES:
        return safeparse.json_loads(body)
    try:
        text = _decode(body)
        value, end = _value(text, _skip(text, 0), 2)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer of more than 4,300 digits, bytes not UTF-8
        raise json.JSONDecodeError(f"unreadable number: {str(exc)[:80]}", "", 0) from None
    if _skip(text, end) != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _decode(body: bytes) -> str:
    """The body as json.loads decodes bytes (its encoding detection, surrogatepass), a slice
    at a time."""
    decoder = codecs.getincrementaldecoder(json.detect_encoding(body))("surrogatepass")
    parts = [decoder.decode(body[i : i + DECODE_CHUNK]) for i in range(0, len(body), DECODE_CHUNK)]
    return "".join(parts) + decoder.decode(b"", final=True)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _value(text: str, i: int, levels: int) -> tuple[Any, int]:
    if levels and text[i : i + 1] in ("[", "{"):
        return _container(text, i, levels - 1)
    return _DECODER.raw_decode(text, i)


def _container(text: str, i: int, levels: int) -> tuple[Any, int]:
    """The array or object opening at text[i], its members each parsed by the decoder."""
    is_object = text[i] == "{"
    close = "}" if is_object else "]"
    result: Any = {} if is_object else []
    i = _skip(text, i + 1)
    if text[i : i + 1] == close:
        return result, i + 1
    while True:
        if is_object:
            if text[i : i + 1] != '"':
                raise json.JSONDecodeError("Expecting property name", text, i)
            key, i = _DECODER.raw_decode(text, i)  # a string: it opens with a quote
            i = _skip(text, i)
            if text[i : i + 1] != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
            value, i = _value(text, _skip(text, i + 1), levels)
            result[key] = value
        else:
            value, i = _value(text, i, levels)
            result.append(value)
        i = _skip(text, i)
        if text[i : i + 1] == ",":
            i = _skip(text, i + 1)
        elif text[i : i + 1] == close:
            return result, i + 1
        else:
            raise json.JSONDecodeError(f"Expecting ',' or '{close}'", text, i)
