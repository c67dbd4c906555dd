"""digest's default theme: Jinja templates and static assets (this file makes it a package)."""
