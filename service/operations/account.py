"""GetAccountSummary, and the credentials this server never issues (SSH
public keys, signing certificates, service-specific credentials, server
certificates): their List operations answer truthfully that there are none,
so that clients which list them before deleting a user (Terraform's AWS
provider does) work. Their Upload/Create operations are not served."""

from __future__ import annotations

from ..registry import Call, operation
from . import common as c

# IAM and AWS STS quotas (IAM User Guide), the defaults an account starts with.
QUOTAS = {"UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
          "InstanceProfilesQuota": 1000, "ServerCertificatesQuota": 20, "GroupsPerUserQuota": 10,
          "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2, "AttachedPoliciesPerUserQuota": 10,
          "AttachedPoliciesPerGroupQuota": 10, "AttachedPoliciesPerRoleQuota": 10, "VersionsPerPolicyQuota": 5,
          "PolicySizeQuota": 6144, "UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120,
          "RolePolicySizeQuota": 10240, "AssumeRolePolicySizeQuota": 2048, "PolicyVersionsInUseQuota": 10000}


@operation("iam", "GetAccountSummary")
def get_account_summary(call: Call) -> dict:
    def count(sql: str, *args) -> int:
        return call.db.execute(sql, (call.account, *args)).fetchone()[0]

    kinds = {kind: count("SELECT COUNT(*) FROM entities WHERE account = ? AND kind = ?", kind)
             for kind in ("user", "group", "role", "policy", "instance_profile", "oidc_provider", "saml_provider")}
    account = call.store.account(call.account)
    summary = dict(QUOTAS)
    summary.update({
        "Users": kinds["user"], "Groups": kinds["group"], "Roles": kinds["role"], "Policies": kinds["policy"],
        "InstanceProfiles": kinds["instance_profile"], "Providers": kinds["oidc_provider"] + kinds["saml_provider"],
        "ServerCertificates": 0,
        "PolicyVersionsInUse": count("SELECT COUNT(*) FROM policy_versions WHERE account = ?"),
        "AccountAccessKeysPresent": int(bool(count("SELECT COUNT(*) FROM access_keys WHERE account = ? AND "
                                                   "user_name IS NULL"))),
        "AccountPasswordPresent": int(bool(account and account["password_hash"])),
        "AccountSigningCertificatesPresent": 0,
        # Root MFA devices are not served (service/operations/mfa_devices.py names IAM users).
        "AccountMFAEnabled": 0,
    })
    return {"SummaryMap": summary}


def _user_arn(call: Call) -> str:
    return c.entity_arn(call, "user", call.params.get("UserName")) if call.params.get("UserName") else call.caller.arn


def _none(output: str):
    def handler(call: Call) -> dict:
        if call.params.get("UserName"):
            c.entity(call, "user", call.params["UserName"])   # NoSuchEntity for an unknown user, as IAM answers
        return {output: []}
    return handler


operation("iam", "ListSSHPublicKeys", resource=_user_arn)(_none("SSHPublicKeys"))
operation("iam", "ListSigningCertificates", resource=_user_arn)(_none("Certificates"))
operation("iam", "ListServiceSpecificCredentials", resource=_user_arn)(_none("ServiceSpecificCredentials"))
operation("iam", "ListServerCertificates", resource=lambda call: c.list_arn(call, "server-certificate"))(
    _none("ServerCertificateMetadataList"))
