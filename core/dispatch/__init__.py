"""City case dispatch: the GB/T 30428 digital city-management workflow (DOMAIN §1)."""
