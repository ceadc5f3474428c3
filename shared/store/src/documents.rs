//! Files in the documents bucket: written with their metadata, read back through short-lived
//! presigned URLs (the bucket itself is private).
//!
//! [`Upload`] writes a file of any size in bounded memory: bytes are buffered up to one part and
//! sent as an S3 multipart upload; a small file is one `PutObject`.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::StoreError;

/// Bytes per multipart part (S3's minimum is 5 MiB for every part but the last).
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Room above a part for the last write that fills it (a page of an extract is well below),
/// so a part's buffer is allocated once at its full size instead of growing by doubling.
const PART_SLACK: usize = 1024 * 1024;

/// The documents bucket.
#[derive(Clone)]
pub struct Documents {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// How a stored file presents itself when downloaded.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub key: String,
    pub content_type: String,
    /// `Content-Disposition` served with the file.
    pub disposition: String,
}

impl Documents {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Documents {
        Documents {
            s3,
            bucket: bucket.into(),
        }
    }

    /// Starts writing a file; nothing is visible until [`Upload::finish`].
    pub fn upload(&self, info: FileInfo) -> Upload {
        Upload {
            documents: self.clone(),
            info,
            buffer: Vec::new(),
            upload_id: None,
            parts: Vec::new(),
        }
    }

    /// Stores a small file in one call, encrypted, with its metadata (ASCII values only);
    /// returns the S3 version id.
    pub async fn put(
        &self,
        info: &FileInfo,
        bytes: Vec<u8>,
        metadata: &[(&str, &str)],
    ) -> Result<Option<String>, StoreError> {
        let mut request = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&info.key)
            .content_type(&info.content_type)
            .content_disposition(&info.disposition)
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes));
        for (name, value) in metadata {
            request = request.metadata(*name, *value);
        }
        let out = request.send().await.map_err(StoreError::sdk)?;
        Ok(out.version_id().map(str::to_string))
    }

    /// The metadata, version id and size of the current version of a file, `None` if absent.
    pub async fn head(&self, key: &str) -> Result<Option<StoredFile>, StoreError> {
        match self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(StoredFile {
                metadata: out.metadata().cloned().unwrap_or_default(),
                version_id: out.version_id().map(str::to_string),
                size: out.content_length().unwrap_or_default(),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(StoreError::sdk(e)),
        }
    }

    /// The bytes of the current version of a file, `None` if absent.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(StoreError::sdk)?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(StoreError::sdk(e)),
        }
    }

    /// Every version id of a file, newest first.
    pub async fn versions(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let out = self
            .s3
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(key)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(out
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .filter_map(|v| v.version_id().map(str::to_string))
            .collect())
    }

    /// A URL that downloads one version of a file for `valid_for`, without credentials.
    pub async fn presigned_version(
        &self,
        key: &str,
        version_id: Option<&str>,
        valid_for: Duration,
    ) -> Result<String, StoreError> {
        let config = PresigningConfig::expires_in(valid_for).map_err(StoreError::sdk)?;
        let request = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .presigned(config)
            .await
            .map_err(StoreError::sdk)?;
        Ok(request.uri().to_string())
    }

    /// A URL that downloads the current version of a file for `valid_for`, without credentials.
    pub async fn presigned_get(
        &self,
        key: &str,
        valid_for: Duration,
    ) -> Result<String, StoreError> {
        self.presigned_version(key, None, valid_for).await
    }
}

/// What S3 knows of a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub metadata: std::collections::HashMap<String, String>,
    pub version_id: Option<String>,
    pub size: i64,
}

/// A file being written (see [`Documents::upload`]).
pub struct Upload {
    documents: Documents,
    info: FileInfo,
    buffer: Vec<u8>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
}

impl Upload {
    /// Appends bytes; sends a part whenever a full one is buffered.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if self.buffer.capacity() == 0 {
            self.buffer.reserve_exact(PART_BYTES + PART_SLACK);
        }
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= PART_BYTES {
            let part = std::mem::take(&mut self.buffer);
            if let Err(e) = self.send_part(part).await {
                self.abort().await;
                return Err(e);
            }
        }
        Ok(())
    }

    async fn send_part(&mut self, part: Vec<u8>) -> Result<(), StoreError> {
        let Documents { s3, bucket } = &self.documents;
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let created = s3
                    .create_multipart_upload()
                    .bucket(bucket)
                    .key(&self.info.key)
                    .content_type(&self.info.content_type)
                    .content_disposition(&self.info.disposition)
                    .send()
                    .await
                    .map_err(StoreError::sdk)?;
                let id = created
                    .upload_id()
                    .ok_or_else(|| StoreError::Unavailable("no multipart upload id".into()))?
                    .to_string();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = i32::try_from(self.parts.len() + 1)
            .map_err(|_| StoreError::Unavailable("too many parts".into()))?;
        let sent = s3
            .upload_part()
            .bucket(bucket)
            .key(&self.info.key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(sent.e_tag().map(str::to_string))
                .build(),
        );
        Ok(())
    }

    /// Makes the file visible and returns its key.
    pub async fn finish(mut self) -> Result<String, StoreError> {
        let rest = std::mem::take(&mut self.buffer);
        if self.upload_id.is_none() {
            let Documents { s3, bucket } = &self.documents;
            s3.put_object()
                .bucket(bucket)
                .key(&self.info.key)
                .content_type(&self.info.content_type)
                .content_disposition(&self.info.disposition)
                .body(ByteStream::from(rest))
                .send()
                .await
                .map_err(StoreError::sdk)?;
            return Ok(self.info.key);
        }
        let result = async {
            if !rest.is_empty() {
                self.send_part(rest).await?;
            }
            let Documents { s3, bucket } = &self.documents;
            s3.complete_multipart_upload()
                .bucket(bucket)
                .key(&self.info.key)
                .set_upload_id(self.upload_id.clone())
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(self.parts.clone()))
                        .build(),
                )
                .send()
                .await
                .map_err(StoreError::sdk)
        }
        .await;
        match result {
            Ok(_) => Ok(self.info.key),
            Err(e) => {
                self.abort().await;
                Err(e)
            }
        }
    }

    /// Drops the parts sent so far (a failed file leaves nothing behind).
    pub async fn abort(&mut self) {
        if let Some(id) = self.upload_id.take() {
            let Documents { s3, bucket } = &self.documents;
            if let Err(e) = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(&self.info.key)
                .upload_id(id)
                .send()
                .await
            {
                tracing::warn!(error = %StoreError::sdk(e), key = %self.info.key, "abort multipart upload");
            }
        }
    }
}
