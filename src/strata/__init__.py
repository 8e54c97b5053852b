"""strata: deploy SAM apps so a Lambda function gets a new version exactly when its content changes."""

__version__ = "0.1.0"
