"""The handheld web service for engagement officers' phones (issue 28)."""
