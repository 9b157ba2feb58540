"""The worker's web endpoint: one aiohttp app (`monitor run`, config `http:`)."""
