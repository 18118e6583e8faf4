"""OIDC and SAML identity providers."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..registry import Call, InvalidInput, LimitExceeded, NoSuchEntity, operation
from . import common as c


def _oidc_name(url: str) -> str:
    """The provider's ARN suffix: the URL without its scheme (IAM API
    Reference, CreateOpenIDConnectProvider: the host and path)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise InvalidInput("Invalid Open ID Connect Provider URL")
    return (parts.netloc + parts.path).rstrip("/")


def _by_arn(call: Call, arn: str, kind: str) -> dict:
    row = call.store.entity_by_arn(arn, call.db)
    if row is None or row["kind"] != kind or row["account"] != call.account:
        word = "OpenIDConnect Provider" if kind == "oidc_provider" else "SAMLProvider"
        raise NoSuchEntity(f"{word} not found for arn {arn}")
    return row


def _oidc_arn(call: Call) -> str:
    if call.params.get("OpenIDConnectProviderArn"):
        return call.params["OpenIDConnectProviderArn"]
    return f"arn:aws:iam::{call.account}:oidc-provider/{_oidc_name(call.params['Url'])}"


@operation("iam", "CreateOpenIDConnectProvider", resource=_oidc_arn, mutating=True)
def create_oidc(call: Call) -> dict:
    p = call.params
    name = _oidc_name(p["Url"])
    arn = f"arn:aws:iam::{call.account}:oidc-provider/{name}"
    c.insert(call, "oidc_provider", name, "/", arn,
             {"Url": name, "ClientIDList": p.get("ClientIDList", []), "ThumbprintList": p.get("ThumbprintList", [])},
             f"Provider with url {p['Url']} already exists.")
    if p.get("Tags"):
        c.add_tags(call, "oidc_provider", name, p["Tags"])
    return {"OpenIDConnectProviderArn": arn, "Tags": p.get("Tags")}


@operation("iam", "GetOpenIDConnectProvider", resource=_oidc_arn)
def get_oidc(call: Call) -> dict:
    row = _by_arn(call, call.params["OpenIDConnectProviderArn"], "oidc_provider")
    d = row["data"]
    return {"Url": d["Url"], "ClientIDList": d["ClientIDList"], "ThumbprintList": d["ThumbprintList"],
            "CreateDate": row["created"], "Tags": c.tags(call, "oidc_provider", row["name"]) or None}


@operation("iam", "ListOpenIDConnectProviders")
def list_oidc(call: Call) -> dict:
    return {"OpenIDConnectProviderList": [{"Arn": r["arn"]} for r in c.listed(call, "oidc_provider")]}


@operation("iam", "DeleteOpenIDConnectProvider", resource=_oidc_arn, mutating=True)
def delete_oidc(call: Call) -> None:
    row = _by_arn(call, call.params["OpenIDConnectProviderArn"], "oidc_provider")
    c.delete_owned(call, "oidc_provider", row["name"])


def _saml_arn(call: Call) -> str:
    if call.params.get("SAMLProviderArn"):
        return call.params["SAMLProviderArn"]
    return f"arn:aws:iam::{call.account}:saml-provider/{call.params['Name']}"


@operation("iam", "CreateSAMLProvider", resource=_saml_arn, mutating=True)
def create_saml(call: Call) -> dict:
    p = call.params
    arn = _saml_arn(call)
    c.insert(call, "saml_provider", p["Name"], "/", arn, {"SAMLMetadataDocument": p["SAMLMetadataDocument"]},
             f"SAMLProvider {p['Name']} already exists.")
    if p.get("Tags"):
        c.add_tags(call, "saml_provider", p["Name"], p["Tags"])
    return {"SAMLProviderArn": arn, "Tags": p.get("Tags")}


@operation("iam", "GetSAMLProvider", resource=_saml_arn)
def get_saml(call: Call) -> dict:
    row = _by_arn(call, call.params["SAMLProviderArn"], "saml_provider")
    return {"SAMLMetadataDocument": row["data"]["SAMLMetadataDocument"], "CreateDate": row["created"],
            "Tags": c.tags(call, "saml_provider", row["name"]) or None}


@operation("iam", "UpdateSAMLProvider", resource=_saml_arn, mutating=True)
def update_saml(call: Call) -> dict:
    row = _by_arn(call, call.params["SAMLProviderArn"], "saml_provider")
    if call.params.get("SAMLMetadataDocument"):
        row["data"]["SAMLMetadataDocument"] = call.params["SAMLMetadataDocument"]
    c.save_data(call, row)
    return {"SAMLProviderArn": row["arn"]}


@operation("iam", "ListSAMLProviders")
def list_saml(call: Call) -> dict:
    return {"SAMLProviderList": [{"Arn": r["arn"], "CreateDate": r["created"]} for r in c.listed(call, "saml_provider")]}


@operation("iam", "DeleteSAMLProvider", resource=_saml_arn, mutating=True)
def delete_saml(call: Call) -> None:
    row = _by_arn(call, call.params["SAMLProviderArn"], "saml_provider")
    c.delete_owned(call, "saml_provider", row["name"])


c.register_tag_operations("OpenIDConnectProvider", "oidc_provider",
                          lambda call: _by_arn(call, call.params["OpenIDConnectProviderArn"], "oidc_provider"), _oidc_arn)
c.register_tag_operations("SAMLProvider", "saml_provider",
                          lambda call: _by_arn(call, call.params["SAMLProviderArn"], "saml_provider"), _saml_arn)


# IAM quotas (IAM User Guide, IAM and AWS STS quotas): "Client IDs per OpenID Connect provider: 100";
# a provider holds at most five thumbprints (IAM API Reference, CreateOpenIDConnectProvider, ThumbprintList).
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5


def _oidc(call: Call) -> dict:
    return _by_arn(call, call.params["OpenIDConnectProviderArn"], "oidc_provider")


@operation("iam", "AddClientIDToOpenIDConnectProvider", resource=_oidc_arn, mutating=True)
def add_client_id(call: Call) -> None:
    """Adding a client ID the provider already has changes nothing (the call succeeds)."""
    row = _oidc(call)
    ids = row["data"].setdefault("ClientIDList", [])
    if call.params["ClientID"] in ids:
        return
    if len(ids) >= MAX_CLIENT_IDS:
        raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    ids.append(call.params["ClientID"])
    c.save_data(call, row)


@operation("iam", "RemoveClientIDFromOpenIDConnectProvider", resource=_oidc_arn, mutating=True)
def remove_client_id(call: Call) -> None:
    """IAM API Reference, RemoveClientIDFromOpenIDConnectProvider: "This operation is idempotent; it does
    not fail or return an error if you try to remove a client ID that does not exist." """
    row = _oidc(call)
    row["data"]["ClientIDList"] = [i for i in row["data"].get("ClientIDList", []) if i != call.params["ClientID"]]
    c.save_data(call, row)


@operation("iam", "UpdateOpenIDConnectProviderThumbprint", resource=_oidc_arn, mutating=True)
def update_thumbprints(call: Call) -> None:
    """The list replaces the provider's thumbprints (IAM API Reference, UpdateOpenIDConnectProviderThumbprint)."""
    row = _oidc(call)
    thumbprints = list(call.params["ThumbprintList"])
    if len(thumbprints) > MAX_THUMBPRINTS:
        # The operation's errors name no LimitExceeded: an over-long list is invalid input.
        raise InvalidInput(f"Thumbprint list must contain at most {MAX_THUMBPRINTS} thumbprints.")
    row["data"]["ThumbprintList"] = thumbprints
    c.save_data(call, row)
