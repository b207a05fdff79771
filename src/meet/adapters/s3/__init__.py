"""S3-compatible object storage (AWS S3, MinIO, ...) through boto3."""
