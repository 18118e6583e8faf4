"""A validator of JSON values against botocore's accessanalyzer service model:
an operation's output shape, every member name, type, enum value, required
member and union checked, recursively. The model is the one botocore ships
(botocore/data/accessanalyzer/*/service-2.json)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=2)
def model(service: str = "accessanalyzer") -> dict:
    import botocore.loaders

    return botocore.loaders.create_loader().load_service_model(service, "service-2")


def output_shape(operation: str, service: str = "accessanalyzer") -> str:
    """The output shape's name; the IAM Query protocol wraps it in a result
    element the AWS CLI does not print, so that name is the one to check."""
    return model(service)["operations"][operation]["output"]["shape"]


def problems(value, shape_name: str, where: str = "$", service: str = "accessanalyzer") -> list[str]:
    """Every way ``value`` departs from the shape (empty: it conforms)."""
    shape = model(service)["shapes"][shape_name]
    kind = shape["type"]
    out: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: {shape_name} must be an object, not {type(value).__name__}"]
        members = shape["members"]
        for name in value:
            if name not in members:
                out.append(f"{where}: {name!r} is not a member of {shape_name} ({', '.join(members)})")
        for name in shape.get("required", []):
            if name not in value:
                out.append(f"{where}: {shape_name} requires {name!r}")
        if shape.get("union") and len(value) != 1:
            out.append(f"{where}: {shape_name} is a union: exactly one member, not {sorted(value)}")
        for name, member in members.items():
            if name in value:
                out.extend(problems(value[name], member["shape"], f"{where}.{name}", service))
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{where}: {shape_name} must be a list"]
        for i, item in enumerate(value):
            out.extend(problems(item, shape["member"]["shape"], f"{where}[{i}]", service))
        if "min" in shape and len(value) < shape["min"]:
            out.append(f"{where}: at least {shape['min']} items")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{where}: {shape_name} must be a string, not {value!r}"]
        if "enum" in shape and value not in shape["enum"]:
            out.append(f"{where}: {value!r} is not one of {shape['enum']}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: {shape_name} must be an integer, not {value!r}"]
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: {shape_name} must be an object"]
        for k, v in value.items():
            out.extend(problems(k, shape["key"]["shape"], f"{where} key", service))
            out.extend(problems(v, shape["value"]["shape"], f"{where}[{k!r}]", service))
    elif kind == "boolean":
        if not isinstance(value, bool):
            return [f"{where}: {shape_name} must be a boolean"]
    else:
        out.append(f"{where}: shape type {kind} is not checked here")
    return out
