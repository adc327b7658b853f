"""DynamoDB access: PynamoDB models, key builders and the access patterns of docs/architecture.md.

Nothing outside this package touches PynamoDB or boto3 for tables; SDK errors are translated here.
"""
