"""Logger, Tracer and Metrics, created once per container and shared by every module.

Log lines carry structured keys (ids, counts), never a phone, email or name: callers pass ids.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(utc=True)
# Patch only botocore: the default also imports httpx and requests into every function.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
