"""The Vertex AI dialect: `jobs` (tuningJobs), `serving` (the tuned models and endpoints
they produce, publisher models) and `wire` (request checks, JSON shapes)."""
