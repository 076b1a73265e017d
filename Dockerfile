FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY caregaps ./caregaps
COPY measures ./measures
COPY fhir_samples ./fhir_samples
RUN pip install --no-cache-dir .
ENV CAREGAPS_HOST=0.0.0.0 CAREGAPS_DATA_DIR=/data
EXPOSE 8000
CMD ["caregaps", "serve"]
