"""The command line: thin typer modules and terminal-facing options. Nothing below imports it."""
