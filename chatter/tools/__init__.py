"""Step tools (query, statistics, analyses, insights), installed as ``chatter.tools``."""
