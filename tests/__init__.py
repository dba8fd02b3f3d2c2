"""TherapyBridge tests, laid out like the code (unit/, api/, pipeline/, ...); support/ is the harness."""
