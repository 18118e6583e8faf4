"""The Z3 backend: equivalence, no-new-access and can-be-allowed proofs.

It mirrors kernel/ module for module; its questions arrive with the proofs issue.
"""
