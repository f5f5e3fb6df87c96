"""Pages and htmx partials of the jobs app."""
