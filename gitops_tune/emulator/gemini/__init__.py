"""The Gemini API dialect: `handlers` (routes), `wire` (request checks, JSON shapes),
`catalog` (base models) and `answers` (generateContent)."""
