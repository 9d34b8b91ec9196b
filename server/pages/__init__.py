"""Server-rendered pages (Jinja2) for looking at the data on any phone; the offline app is in pwa/."""
