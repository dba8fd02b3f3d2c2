"""The gateway's routers, one per area (sessions, sign-off, review, transcript, exports ...): HTTP only."""
