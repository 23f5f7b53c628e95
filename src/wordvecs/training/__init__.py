"""Training and serving: the experiment, the saved classifier, its report, the service."""
