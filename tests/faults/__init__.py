"""Failures on real processes: killed workers and servers, breakers, privacy of histories, operators."""
