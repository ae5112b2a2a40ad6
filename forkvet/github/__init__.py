"""The GitHub layer (PyGithub): App authentication, check runs, the report issue, the setup
pull request, and the repository's own configuration. Used by the App and the Actions."""

# Here, not in client.py, so that reading it does not import PyGithub.
DEFAULT_API_URL = "https://api.github.com"
