"""The authorization kernel: the AWS decision procedure as Datalog rules.

It holds the operator table (operators.py) that every consumer of conditions
reads; the decision rules arrive with the kernel's own issue.
"""
