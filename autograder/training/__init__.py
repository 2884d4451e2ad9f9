"""Judge-side training: generic loops that drive a worker's TrainingSession, the calibrated
candidate models, and nothing that runs student code in the judge's own process."""
