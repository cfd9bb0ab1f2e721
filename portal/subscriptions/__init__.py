"""The residents' page for choosing which notices they get, after proving their phone."""
