"""Training for the risk classifier (`safety.classifier`): data, model fitting, evaluation.

Development only: nothing here is imported when Companion runs. `python -m safety.training`
rebuilds `safety/data/classifier.json` from `safety/data/classifier_train.yaml` (pure Python, a
fixed seed, the same bytes on every run) and prints the held-out figures quoted in
`safety/MODEL_CARD.md`.
"""
