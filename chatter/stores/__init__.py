"""Stores: where runs and chat sessions are kept."""
