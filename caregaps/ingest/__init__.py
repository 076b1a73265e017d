"""Ingest: read FHIR R4 exports, check what the engine reads, store raw resources and facts."""
