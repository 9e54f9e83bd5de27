"""The command line: one parser, one dispatch table; every command goes through the services."""
