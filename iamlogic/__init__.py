"""iamlogic: decide and prove things about AWS IAM policies, offline.

    >>> import iamlogic
    >>> policy = iamlogic.parse_policy('{"Version": "2012-10-17", "Statement": '
    ...     '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}')
    >>> policy.statements[0].action[0].service
    's3'
    >>> [f.issue_code for f in iamlogic.validate('{"Statement": []}')]
    ['MISSING_VERSION', 'EMPTY_STATEMENT']
"""

from importlib.metadata import PackageNotFoundError, version as _version

from .errors import ExitCode, IamlogicError, InputError, PolicyError, ScenarioError, UsageError
from .kernel.decision import Decision
from .kernel.engine import Engine
from .scenario import PolicyText, compile, simulate
from .translator import Finding, FindingType, Policy, PolicyType
from .validation import parse_policy, validate

try:
    __version__ = _version("iamlogic")
except PackageNotFoundError:  # running from a checkout without an install
    __version__ = "0+unknown"

__all__ = [
    "Decision", "Engine", "ScenarioError", "compile", "simulate",
    "ExitCode", "Finding", "FindingType", "IamlogicError", "InputError", "Policy", "PolicyError", "PolicyText",
    "PolicyType", "UsageError", "parse_policy", "validate", "__version__",
]
