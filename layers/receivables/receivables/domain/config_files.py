"""A settings document a user drops under ``config/`` (JSON or YAML, YAML reads JSON too), validated into its model,
with the file and the field named when it does not validate, and the file's name checked against the id inside."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


def load_settings[M: BaseModel](
    text: bytes | str,
    model: type[M],
    *,
    where: str,
    error: type[ValueError],
    bank_id: str,
    defaults: dict[str, Any] | None = None,
) -> M:
    import yaml  # PyYAML is a runtime dependency (bank profiles use it as well)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid JSON or YAML ({exc})") from None
    if not isinstance(data, dict):
        raise error(f"{where}: expected an object of settings")
    for name, value in (defaults or {}).items():
        data.setdefault(name, value)
    try:
        settings = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise error(f"{where}: {problems}") from None
    stored_as = getattr(settings, "bank_id", bank_id)
    if stored_as != bank_id:
        raise error(f"{where}: bank_id {stored_as!r} differs from the file's name ({bank_id!r})")
    return settings
