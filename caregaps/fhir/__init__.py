"""FHIR R4 outputs, built with fhir.resources.R4B models so that each is valid by construction."""
