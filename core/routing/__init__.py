"""Departments, categories and the routing rules that send a request to a back office."""
