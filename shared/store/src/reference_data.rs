//! The published reference tables (提出先, 指針, 手続の規則) in their versioned bucket: one object
//! the operator publishes (`keiryoku-admin tables publish`) and the functions read when it changes.

use aws_sdk_s3::primitives::ByteStream;

use crate::StoreError;

/// The key of the published tables in the reference-data bucket.
pub const TABLES_KEY: &str = "tables/current.json";

/// The reference-data bucket.
#[derive(Clone)]
pub struct ReferenceData {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// The published object as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub etag: String,
    pub version_id: Option<String>,
}

impl Published {
    /// `s3://bucket/tables/current.json?versionId=…`, as answers record it.
    pub fn location(&self, bucket: &str) -> String {
        match &self.version_id {
            Some(v) => format!("s3://{bucket}/{TABLES_KEY}?versionId={v}"),
            None => format!("s3://{bucket}/{TABLES_KEY}#{}", self.etag),
        }
    }
}

impl ReferenceData {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> ReferenceData {
        ReferenceData {
            s3,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// What is published now (one cheap HEAD), `None` when nothing is.
    pub async fn current(&self) -> Result<Option<Published>, StoreError> {
        match self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(TABLES_KEY)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Published {
                etag: out.e_tag().unwrap_or_default().to_string(),
                version_id: out.version_id().map(str::to_string),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(StoreError::sdk(e)),
        }
    }

    /// The versions of the published object since it was last withdrawn, newest first (at most
    /// `limit`): a version from before a withdrawal never comes back.
    pub async fn versions(&self, limit: i32) -> Result<Vec<Published>, StoreError> {
        let out = self
            .s3
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(TABLES_KEY)
            .max_keys(limit)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let mut versions: Vec<(Option<aws_sdk_s3::primitives::DateTime>, Published)> = out
            .versions()
            .iter()
            .filter(|v| v.key() == Some(TABLES_KEY))
            .map(|v| {
                (
                    v.last_modified().copied(),
                    Published {
                        etag: v.e_tag().unwrap_or_default().to_string(),
                        version_id: v.version_id().map(str::to_string),
                    },
                )
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        let withdrawn = out
            .delete_markers()
            .iter()
            .filter(|m| m.key() == Some(TABLES_KEY))
            .filter_map(|m| m.last_modified().copied())
            .max();
        Ok(versions
            .into_iter()
            .filter(|(at, _)| withdrawn.is_none_or(|w| at.is_some_and(|at| at > w)))
            .map(|(_, v)| v)
            .collect())
    }

    /// The bytes of one published version (the one [`current`](Self::current) named).
    pub async fn read(&self, published: &Published) -> Result<Option<Vec<u8>>, StoreError> {
        let mut request = self.s3.get_object().bucket(&self.bucket).key(TABLES_KEY);
        if let Some(v) = &published.version_id {
            request = request.version_id(v);
        }
        match request.send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(StoreError::sdk)?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(StoreError::sdk(e)),
        }
    }

    /// Publishes a new version (the bucket keeps every earlier one); returns what is published.
    pub async fn publish(&self, bytes: Vec<u8>) -> Result<Published, StoreError> {
        let out = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(TABLES_KEY)
            .content_type("application/json")
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(Published {
            etag: out.e_tag().unwrap_or_default().to_string(),
            version_id: out.version_id().map(str::to_string),
        })
    }

    /// Withdraws the published tables (a delete marker; earlier versions stay): the functions
    /// go back to the copy embedded in their build.
    pub async fn withdraw(&self) -> Result<(), StoreError> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(TABLES_KEY)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }
}
