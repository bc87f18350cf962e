from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """Request bodies refuse unknown fields: `role` or `is_verified` are never taken from a
    client unless an admin route says so."""

    model_config = ConfigDict(extra="forbid")
