"""Pages that show several features at once, composed above them (see docs/architecture.md)."""
