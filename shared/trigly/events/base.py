"""The base of every event payload: unknown fields ignored, cross-field rules named by field.

Pydantic reports a model-level rule at the model itself (`data`); a payload states its rules as
`(field, message)` problems instead, so the integrator sees e.g. `data.contact`, and they are
reported together with every other failing field of the event.
"""

from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

Problem = tuple[str, str]  # (field of this payload, message)


def given(data: dict[str, Any], name: str) -> bool:
    """Whether the raw input carries a value for `name` (null counts as absent)."""
    return data.get(name) is not None


class Payload(BaseModel):
    # defer_build: each event type's validator is built on first use, not at cold start.
    model_config = ConfigDict(extra="ignore", defer_build=True)

    @classmethod
    def input_problems(cls, data: dict[str, Any]) -> list[Problem]:
        """Rules on which fields are present; checked even when other fields fail."""
        return []

    def problems(self) -> list[Problem]:
        """Rules between valid field values (e.g. an order opened after it closed)."""
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        errors: list[InitErrorDetails] = []
        model: Self | None = None
        try:
            model = handler(data)
        except ValidationError as exc:
            errors = [
                InitErrorDetails(
                    type=PydanticCustomError(error["type"], error["msg"]),
                    loc=error["loc"],
                    input=error["input"],
                )
                for error in exc.errors(include_url=False)
            ]
        if isinstance(data, dict):
            problems = cls.input_problems(data)
            errors += [_problem(field, message, data) for field, message in problems]
        if model is not None:
            errors += [_problem(field, message, data) for field, message in model.problems()]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        assert model is not None
        return model


def _problem(field: str, message: str, data: Any) -> InitErrorDetails:
    value = data.get(field) if isinstance(data, dict) else None
    return InitErrorDetails(type=PydanticCustomError("rule", message), loc=(field,), input=value)
