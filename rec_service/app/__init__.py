"""The running service: settings, the composition root that loads and owns the components,
model generations, retrain, telemetry and logging set-up."""
