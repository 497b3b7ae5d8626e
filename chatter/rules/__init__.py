"""Rules: the condition language and rule sets that choose what runs."""
