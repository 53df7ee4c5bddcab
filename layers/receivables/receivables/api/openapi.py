"""Print the OpenAPI document generated from the routes (`make openapi` writes docs/openapi.json)."""

from receivables.api.app import openapi_document

if __name__ == "__main__":
    print(openapi_document())
