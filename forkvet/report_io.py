"""Read a Report back from its JSON form (the Actions and the App exchange reports as JSON)."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from forkvet.errors import InputError
from forkvet.report import SCHEMA_VERSION, Report


def _build(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            return _build(arg, value)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_build(item, v) for v in value]
    if origin is dict:
        return dict(value)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        hints = typing.get_type_hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        return typing.cast(Any, tp)(
            **{k: _build(hints[k], v) for k, v in value.items() if k in known}
        )
    return value


def report_from_dict(data: dict[str, Any]) -> Report:
    version = str(data.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"report schema {version or '?'} is not supported (this forkvet reads {SCHEMA_VERSION})"
        )
    try:
        report: Report = _build(Report, data)
    except (TypeError, ValueError, KeyError) as exc:
        raise InputError(f"not a forkvet report: {exc}") from exc
    return report
