"""Photos on tickets: checking uploads, fetching them from URLs, and keeping them in storage."""
