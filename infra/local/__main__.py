"""`python -m infra.local` (what `make run` calls)."""

import logging
import os
import sys

from infra.local.stack import main

code = main()
# Everything the stack held is thrown away on exit; tearing down that heap (moto's state, every
# handler's modules) takes the interpreter seconds on a busy machine. Flush, then leave at once.
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
