"""Bearer-token authentication: credentials are stored only as HMAC-SHA256 hashes."""
