"""The gateway: WebSocket sessions, routing pushes to them, and op dispatch."""
