"""The web app: JSON API, FHIR endpoints under /fhir, and server-rendered pages."""
