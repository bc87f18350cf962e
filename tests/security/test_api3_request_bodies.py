"""OWASP API3:2023 (mass assignment); ASVS v5 V15.3.3: every JSON request body of the API is a
model that refuses unknown fields, so no route can be handed a field it did not declare. Found
from the routers themselves, so a new route is covered the day it is added."""

from fastapi.routing import APIRoute
from pydantic import BaseModel

from bookly.auth.schemas import PasswordGrantForm
from bookly.main import API_ROUTERS

# The OAuth2 password form: OAuth2 clients may send fields of their own (RFC 6749 §4.3.2).
_FORMS = {PasswordGrantForm}


def _body_models() -> dict[str, type[BaseModel]]:
    models = {}
    for router in API_ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            for param in route.dependant.body_params:
                annotation = param.field_info.annotation
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    models[f"{sorted(route.methods)} {route.path}"] = annotation
    return models


def test_every_json_body_refuses_unknown_fields() -> None:
    models = _body_models()
    assert len(models) >= 15  # signup, login, books, reviews, tags, profile, admin, links...
    lenient = {
        where: model.__name__
        for where, model in models.items()
        if model.model_config.get("extra") != "forbid" and model not in _FORMS
    }
    assert lenient == {}
