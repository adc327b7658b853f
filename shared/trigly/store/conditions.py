"""Conditional writes: the one way a store module tells "the condition did not hold" (someone
else wrote first, the slot is full, the key is taken) from a real failure."""

from collections.abc import Callable

from pynamodb.exceptions import DeleteError, PutError, UpdateError


class StaleProfile(Exception):
    """Someone saved the profile after we read it; re-read and merge again.

    Here rather than in `store.customers` (which re-exports it) so the run and vehicle stores,
    whose errors derive from it, do not load the profile model on a worker's cold path."""


def held(write: Callable[[], object]) -> bool:
    """Run one conditional write; False when DynamoDB refused it for its condition."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
