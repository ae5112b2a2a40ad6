"""The GitHub layer (PyGithub): App authentication, check runs, the report issue, the setup
pull request, and the repository's own configuration. Used by the App and the Actions."""
