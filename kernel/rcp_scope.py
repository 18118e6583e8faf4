"""Which requests resource control policies govern.

RCPs apply only to the services AWS lists (AWS Organizations User Guide,
"Resource control policies (RCPs)", List of AWS services that support RCPs:
Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager, and since
June 2025 Amazon ECR and Amazon OpenSearch Serverless). A request to any
other service (IAM, Lambda, EC2…) is decided without the RCP levels. The
server, the account readers (who-can, what-can, reach) and privesc all ask
``rcps_govern``: one list, one answer.
"""

from __future__ import annotations

# Service prefixes of the actions RCPs govern.
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss"})


def rcps_govern(action: str) -> bool:
    """Whether the RCP levels take part in a request for ``action``."""
    return action.split(":", 1)[0].lower() in RCP_SERVICES
