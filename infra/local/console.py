"""What `make run` shows in the terminal, and where everything else goes.

The terminal gets the stack's own lines: start-up steps, one line per webhook batch, one per
clock move, and a one-line notice when a handler fails. Everything else (each invocation's JSON
log lines, the gateway's access log, tracebacks, the emulator's warnings) goes to the stack log
(`.trigly/stack.log`), which also gets the terminal's lines. `TRIGLY_LOCAL_VERBOSE=1` keeps it
all in the terminal, as before.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TextIO

_lock = threading.Lock()
_terminal: TextIO | None = None  # set once the process's output goes to the log
_log_path: Path | None = None


def verbose() -> bool:
    return os.environ.get("TRIGLY_LOCAL_VERBOSE", "0") not in {"", "0", "false"}


def log_path() -> Path | None:
    """The stack log, once output goes there."""
    return _log_path


def send_output_to(path: Path) -> None:
    """From now on, this process's stdout and stderr (file descriptors 1 and 2, so libraries and
    loggers that captured `sys.stdout` follow too) go to `path`; `say` still reaches the
    terminal."""
    global _terminal, _log_path
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log_fd, sys.stdout.fileno())
    os.dup2(log_fd, sys.stderr.fileno())
    os.close(log_fd)
    _terminal, _log_path = terminal, path


def say(line: str) -> None:
    """A line for the person running the stack (and for the log)."""
    with _lock:
        print(line, flush=True)
        if _terminal is not None:
            print(line, file=_terminal, flush=True)
