"""The selection lottery: commitment, draw, fairness checks, publication, verification and the outcome."""
