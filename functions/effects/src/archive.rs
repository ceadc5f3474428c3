//! The audit archive (binary `audit-archive`): from the table's stream, each new audit record
//! is copied once to the Object Lock bucket, the write-once copy `keiryoku-admin audit verify`
//! compares the table's trail with.

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use keiryoku_store::AuditArchive;

/// Copies a batch's audit records; an error fails the whole batch, which the event source
/// retries (each copy is written once, so a retry rewrites nothing).
pub async fn archive(archive: &AuditArchive, event: StreamEvent) -> Result<usize, String> {
    let mut written = 0;
    for record in event.records {
        let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            record.change.new_image.into();
        let is_audit = matches!(
            item.get("kind"),
            Some(aws_sdk_dynamodb::types::AttributeValue::S(kind)) if kind == "audit"
        );
        if !is_audit {
            continue;
        }
        if archive
            .archive_item(&item)
            .await
            .map_err(|e| e.to_string())?
        {
            written += 1;
        }
    }
    Ok(written)
}
