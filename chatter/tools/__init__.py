"""Step tools: the protocol every tool follows and the registry of them, and the concept
packages they are made of (``stats``, ``analyses``, ``insight``). Import what you need from its
module; this package re-exports only the protocol."""

from chatter.tools.protocol import ToolCall, ToolOutput, ToolSpec

__all__ = ["ToolCall", "ToolOutput", "ToolSpec"]
