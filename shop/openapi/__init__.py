"""The API's OpenAPI 3.1 document, built from the operations the routes declare."""
