"""The `engage` command line: thin; it parses, calls the application, renders JSON."""
