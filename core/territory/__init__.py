"""Territory: city → district → community → building → premises, accounts and grid cells."""
