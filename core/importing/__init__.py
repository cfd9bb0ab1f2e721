"""The import framework (``service``) and the report every import endpoint returns."""
