"""The HTTP gateway: auth, tenancy, uploads, limits, sign-off and live progress, over real HTTP."""
