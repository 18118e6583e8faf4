"""Real inputs: an account's ``aws iam get-account-authorization-details``
export, an organization tree with its SCPs and RCPs, and resource policies;
and the questions asked of them (who can, what can, who can become whom),
each answered by the kernel."""

from .inventory import AccountData, Principal, Skipped, load_account_data
from .queries import who_can

__all__ = ["AccountData", "Principal", "Skipped", "load_account_data", "who_can"]
