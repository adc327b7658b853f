"""The base of the models a cold start would otherwise build whole: validators built on first use.

pydantic builds a model's core schema, validator and serializer when the class is created, so
importing a module built every model in it, used or not (ADR 0019, third round). With
`defer_build` they are built the first time the class validates or dumps, and a model nested in
one that is used is built inline with it: a call pays only for the types it reads. The JSON
schema, the validation and the dumps are the same.
"""

from pydantic import BaseModel, ConfigDict


class DeferredModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
