"""gitops-tune: tuned Gemini models declared in Git, planned and applied like Terraform."""

__version__ = "0.1.0"
