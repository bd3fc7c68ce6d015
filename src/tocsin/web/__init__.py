"""The web app: server-rendered pages for responders and admins."""
