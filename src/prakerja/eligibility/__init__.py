"""Eligibility: rules as code; every decision keeps each rule's outcome, the scheme version and the inputs' hash."""
