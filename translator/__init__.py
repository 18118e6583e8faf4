"""The policy model, and the reading of documents into it (with findings).

Its translation into Datalog facts arrives with the kernel."""

from .findings import AwsError, Finding, FindingType, Location, aws_error_for
from .model import (
    ActionPattern,
    ConditionClause,
    ConditionOperator,
    ConditionValue,
    Effect,
    Escape,
    Policy,
    PolicyType,
    PrincipalEntry,
    PrincipalKind,
    ResourcePattern,
    Statement,
    Variable,
)
from .reader import read_policy

__all__ = [
    "ActionPattern", "AwsError", "ConditionClause", "ConditionOperator", "ConditionValue", "Effect", "Escape",
    "Finding", "FindingType", "Location", "Policy", "PolicyType", "PrincipalEntry", "PrincipalKind",
    "ResourcePattern", "Statement", "Variable", "aws_error_for", "read_policy",
]
