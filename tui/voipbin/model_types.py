"""The tolerance rules of ``tui.voipbin.models`` as field types, and the base every resource shares.

VoIPBIN sends ``null``, absent keys, empty strings, the zero UUID and sentinel dates for "unset", and
its docs and seed data differ from live responses; these types read all of them alike, so one odd
field never rejects a whole resource.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr

from tui.voipbin.timeparse import parse_time

NIL_UUID: Final = "00000000-0000-0000-0000-000000000000"


def is_nil(value: object) -> bool:
    """True when an id is unset: ``None``, ``""`` or the zero UUID (any case, with or without dashes)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    stripped = value.strip().replace("-", "")
    return stripped == "" or stripped.strip("0") == ""


# --------------------------------------------------------------------------- field types


def _none_to_empty_str(value: object) -> object:
    return "" if value is None else value


def none_to_empty_list(value: object) -> object:
    return [] if value is None else value


def _to_time(value: object) -> datetime | None:
    # parse_time never raises and returns None for anything it cannot read,
    # so a wrong type in a time field never rejects the whole resource.
    return parse_time(value)


def _to_secret(value: object) -> object:
    if value is None or value == "":
        return None
    return value


Str = Annotated[str, BeforeValidator(_none_to_empty_str)]
"""A string where ``null`` and absence both mean ``""``."""

Time = Annotated[datetime | None, BeforeValidator(_to_time)]
"""A timestamp: aware UTC datetime or ``None`` when unset."""

Secret = Annotated[SecretStr | None, BeforeValidator(_to_secret)]


def _none_to_zero(value: object) -> object:
    return 0 if value is None else value


def _none_to_false(value: object) -> object:
    return False if value is None else value


Int = Annotated[int, BeforeValidator(_none_to_zero)]


def _finite_number_or_none(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return value


Millis = Annotated[float | None, BeforeValidator(_finite_number_or_none)]
"""A non-negative count of milliseconds, or ``None`` when absent or not a usable number."""
Bool = Annotated[bool, BeforeValidator(_none_to_false)]

IdList = Annotated[list[str], BeforeValidator(none_to_empty_list)]


class VoipbinModel(BaseModel):
    """Base for every resource: unknown fields kept, names populated as given.

    Validators are built on first use (``defer_build``) so that importing this
    module stays cheap; :func:`prepare_models` builds them ahead of time.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)
