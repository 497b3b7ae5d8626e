"""The analyst: routing questions to templates or queries, follow-ups, and the chat graph."""
