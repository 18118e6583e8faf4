"""IAM and STS served locally: identities, authentication, and every call authorized by the kernel.

    from iamlogic.service import Store, create_app
    app = create_app(Store("iam.db"), decision_log="decisions.jsonl")   # an ASGI app (Starlette)

The operation registry (registry.py) is how operations plug in; the store
(store.py) is one SQLite file; authz.py gathers the caller's policy set and
request context for the kernel.
"""

from .store import Store


def create_app(*args, **kwargs):
    """The ASGI app (service/app.py); imported on use, as it loads Starlette and botocore."""
    from .app import create_app as _create  # noqa: PLC0415
    return _create(*args, **kwargs)


__all__ = ["Store", "create_app"]
