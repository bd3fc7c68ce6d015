"""Configuration as code: export, plan and apply one YAML file."""
