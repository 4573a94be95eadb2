"""shop: a small-shop e-commerce backend on aiohttp."""
