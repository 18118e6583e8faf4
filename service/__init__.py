"""IAM and STS served locally: identities, authentication, and every call authorized by the kernel."""
