"""The OpenAPI document describes every endpoint, its status codes and error bodies."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemBody"}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_documents_a_success_and_its_errors(sqlite_api: Api) -> None:
    document = sqlite_api.client.get("/openapi.json").json()

    for method, path, operation in _operations(document):
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), (method, path)
        assert {"422", "503"} <= codes, (method, path)
        assert operation.get("description") or operation.get("summary"), (method, path)


def test_every_error_response_is_a_problem_body(sqlite_api: Api) -> None:
    document = sqlite_api.client.get("/openapi.json").json()

    assert "ProblemBody" in document["components"]["schemas"]
    for method, path, operation in _operations(document):
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                content = response["content"]["application/problem+json"]
                assert content["schema"] == PROBLEM_SCHEMA, (method, path, code)


def test_authenticated_operations_document_401(sqlite_api: Api) -> None:
    document = sqlite_api.client.get("/openapi.json").json()
    public = {("post", "/v1/verify")}

    for method, path, operation in _operations(document):
        if (method, path) not in public:
            assert "401" in operation["responses"], (method, path)
