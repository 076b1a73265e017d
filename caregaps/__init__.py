"""caregaps: a population-health care-gap engine over FHIR R4."""

__version__ = "0.1.0"
