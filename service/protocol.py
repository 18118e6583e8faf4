"""The AWS Query protocol, driven by botocore's service models.

Requests: form parameters (``UserName=bob``, ``Tags.member.1.Key=k``,
``Policy.entry.1.key``) parsed into the operation's input shape with its
types, and checked against the model's constraints (required, length,
range, enum, pattern) with AWS's ValidationError wording. Responses: the
handler's dict serialized into ``<OpResponse><OpResult>…</OpResult>
<ResponseMetadata><RequestId>`` as the model names every element; errors as
``<ErrorResponse><Error><Type><Code><Message>``. Pagination (``Marker``,
``MaxItems``, ``IsTruncated``) is applied here, from botocore's paginator
definitions, to the full list a handler returns.
"""

from __future__ import annotations

import base64
import bisect
import json
import datetime as dt
import re
from functools import lru_cache
from xml.sax.saxutils import escape

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .registry import ServiceError, ValidationError

SERVICES = {"2010-05-08": "iam", "2011-06-15": "sts"}
DEFAULT_MAX_ITEMS = 100


@lru_cache(maxsize=None)
def _session() -> botocore.session.Session:
    return botocore.session.Session()


@lru_cache(maxsize=None)
def service_model(service: str):
    return _session().get_service_model(service)


@lru_cache(maxsize=None)
def paginators(service: str) -> dict:
    return _session().get_component("data_loader").load_service_model(service, "paginators-1")["pagination"]


def operation_model(service: str, name: str) -> OperationModel | None:
    model = service_model(service)
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


# ------------------------------------------------------------------ parsing

def parse(op: OperationModel, form: dict[str, str]) -> dict:
    """The input shape's value for these form fields; ValidationError lists
    every violated constraint as AWS does."""
    shape = op.input_shape
    if shape is None:
        return {}
    errors: list[str] = []
    value = _parse_structure(shape, form, "", errors, top=True)
    if errors:
        n = len(errors)
        raise ValidationError(f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors[:10]))
    return value


def _field_name(name: str) -> str:
    return name[:1].lower() + name[1:]


def _parse_structure(shape: StructureShape, form: dict, prefix: str, errors: list, top: bool = False) -> dict:
    out = {}
    for name, member in shape.members.items():
        key = member.serialization.get("name", name)
        full = f"{prefix}{key}"
        present = full in form or any(k.startswith(full + ".") for k in form)
        if not present:
            if name in shape.required_members:
                errors.append(f"Value null at '{_field_name(name)}' failed to satisfy constraint: "
                              "Member must not be null")
            continue
        value = _parse_value(member, form, full, errors, _field_name(name))
        if value is not None:
            out[name] = value
    return out


def _parse_value(shape: Shape, form: dict, key: str, errors: list, field: str):
    kind = shape.type_name
    if kind == "structure":
        return _parse_structure(shape, form, key + ".", errors)
    if kind == "list":
        items = []
        member_key = key + "." + shape.member.serialization.get("name", "member")
        indexes = sorted({int(m.group(1)) for k in form
                          if (m := re.match(re.escape(member_key) + r"\.(\d+)(\.|$)", k))})
        for i in indexes:
            items.append(_parse_value(shape.member, form, f"{member_key}.{i}", errors, field))
        _constraints(shape, items, field, errors)
        return items
    if kind == "map":
        out = {}
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        indexes = sorted({int(m.group(1)) for k in form if (m := re.match(re.escape(key) + r"\.entry\.(\d+)\.", k))})
        for i in indexes:
            k = form.get(f"{key}.entry.{i}.{kname}")
            if k is not None:
                out[k] = _parse_value(shape.value, form, f"{key}.entry.{i}.{vname}", errors, field)
        return out
    raw = form.get(key)
    if raw is None:
        return None
    try:
        if kind in ("integer", "long"):
            value = int(raw)
        elif kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValueError
            value = raw.lower() == "true"
        elif kind in ("double", "float"):
            value = float(raw)
        elif kind == "timestamp":
            value = _read_time(raw)
        elif kind == "blob":
            value = base64.b64decode(raw, validate=True)
        else:
            value = raw
    except (ValueError, TypeError):
        errors.append(f"Value '{raw}' at '{field}' failed to satisfy constraint: Member must be of type {kind}")
        return None
    _constraints(shape, value, field, errors)
    return value


def _read_time(raw: str) -> dt.datetime:
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return dt.datetime.fromtimestamp(float(raw), dt.timezone.utc)
    value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@lru_cache(maxsize=None)
def _pattern(text: str) -> re.Pattern | None:
    # Java's \p{…} classes have no Python spelling; those patterns are not checked here.
    if "\\p{" in text:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


def _constraints(shape: Shape, value, field: str, errors: list) -> None:
    meta = shape.metadata
    shown = value if isinstance(value, (str, int)) else None
    at = f"Value '{shown}' at '{field}'" if shown is not None else f"Value at '{field}'"
    if isinstance(value, (str, list)):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{at} failed to satisfy constraint: Member must have length greater than or equal to "
                          f"{meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{at} failed to satisfy constraint: Member must have length less than or equal to "
                          f"{meta['max']}")
    elif isinstance(value, int) and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            errors.append(f"{at} failed to satisfy constraint: Member must have value greater than or equal to "
                          f"{meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"{at} failed to satisfy constraint: Member must have value less than or equal to "
                          f"{meta['max']}")
    if isinstance(value, str):
        if shape.enum and value not in shape.enum:
            errors.append(f"{at} failed to satisfy constraint: Member must satisfy enum value set: "
                          f"[{', '.join(shape.enum)}]")
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and value and not pattern.fullmatch(value):
            errors.append(f"{at} failed to satisfy constraint: Member must satisfy regular expression pattern: "
                          f"{meta['pattern']}")


# ------------------------------------------------------------------ pagination

# The field that names an item of a paged list (its place in IAM's order).
_NAME_FIELDS = ("UserName", "GroupName", "RoleName", "PolicyName", "InstanceProfileName", "SerialNumber",
                "AccessKeyId", "VersionId", "ServerCertificateName", "Key", "Arn", "Url", "Name")


def _identity(item) -> str:
    if isinstance(item, dict):
        return next((str(item[f]) for f in _NAME_FIELDS if isinstance(item.get(f), str)),
                    json.dumps(item, sort_keys=True, default=str))
    return str(item)


def paginate(service: str, op: OperationModel, params: dict, result: dict) -> dict:
    """Cut the handler's full list(s) at Marker/MaxItems as IAM does: at most
    MaxItems (default 100) items, IsTruncated and the next Marker. The
    Marker names the last item returned, not a count: a client that deletes
    (or adds) items between pages resumes after that item, as IAM's
    "where the next call should start" (IAM API Reference, ListUsers), and
    skips nothing — a count skipped the survivors of a list-and-delete loop."""
    spec = paginators(service).get(op.name)
    if spec is None or spec.get("input_token") != "Marker" or result is None:
        return result
    keys = spec["result_key"] if isinstance(spec["result_key"], list) else [spec["result_key"]]
    limit = params.get("MaxItems") or DEFAULT_MAX_ITEMS
    # Several result lists (GetAccountAuthorizationDetails) are paged as one sequence.
    flat = [(i, item) for i, k in enumerate(keys) for item in result.get(k) or []]
    places = [(i, _identity(item).lower(), _identity(item)) for i, item in flat]
    start = 0
    if params.get("Marker"):
        try:
            index, last, count = json.loads(base64.urlsafe_b64decode(params["Marker"].encode()).decode())
            last_place = (int(index), str(last).lower(), str(last))
            count = int(count)
        except (ValueError, TypeError, UnicodeError):
            raise ServiceError("Invalid Marker.", "InvalidInput", 400, True) from None
        if places == sorted(places):  # in name order (most lists): just after where the last one was
            start = bisect.bisect_right(places, last_place)
        elif last_place in places:   # another order (keys, versions by date): just after it
            start = places.index(last_place) + 1
        else:                        # ... and gone: as many on as were returned
            start = count
    page = flat[start:start + limit]
    out = dict(result)
    for i, k in enumerate(keys):
        if k in result:
            out[k] = [item for index, item in page if index == i]
    out["IsTruncated"] = start + limit < len(flat)
    if out["IsTruncated"]:
        index, last = page[-1][0], _identity(page[-1][1])
        out["Marker"] = base64.urlsafe_b64encode(json.dumps([index, last, start + limit]).encode()).decode()
    return out


# ------------------------------------------------------------------ serializing

def namespace(service: str) -> str:
    return service_model(service).metadata["xmlNamespace"]


def response(service: str, op: OperationModel, result: dict | None, request_id: str) -> str:
    ns = namespace(service)
    body = ""
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
        body = f"<{wrapper}>{_members(shape, result or {})}</{wrapper}>"
    return (f'<{op.name}Response xmlns="{ns}">{body}<ResponseMetadata><RequestId>{request_id}</RequestId>'
            f"</ResponseMetadata></{op.name}Response>")


def error(service: str, err: ServiceError, request_id: str) -> str:
    ns = namespace(service) if service in ("iam", "sts") else namespace("iam")
    return (f'<ErrorResponse xmlns="{ns}"><Error><Type>{err.type}</Type><Code>{escape(err.code)}</Code>'
            f"<Message>{escape(err.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")


def _members(shape: StructureShape, value: dict) -> str:
    parts = []
    for name, member in shape.members.items():
        if name not in value or value[name] is None:
            continue
        tag = member.serialization.get("name", name)
        parts.append(f"<{tag}>{_value(member, value[name])}</{tag}>")
    return "".join(parts)


def _value(shape: Shape, value) -> str:
    kind = shape.type_name
    if kind == "structure":
        return _members(shape, value)
    if kind == "list":
        tag = shape.member.serialization.get("name", "member")
        return "".join(f"<{tag}>{_value(shape.member, v)}</{tag}>" for v in value)
    if kind == "map":
        return "".join(f"<entry><key>{escape(str(k))}</key><value>{_value(shape.value, v)}</value></entry>"
                       for k, v in value.items())
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return format_time(value)
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return escape(str(value))


def format_time(value) -> str:
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
