/// What can go wrong talking to the stores. Handlers map it to HTTP in `keiryoku-http`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or has expired).
    #[error("record not found")]
    NotFound,
    /// A conditional write lost: the record changed or already exists.
    #[error("the record changed or already exists")]
    ConditionFailed,
    /// A cursor or key supplied by a client is not one we issued.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The store could not be reached or refused the call.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored record could not be read back: a bug or a manual edit.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps an SDK error, keeping its full message chain for the logs.
    pub(crate) fn sdk<E: std::error::Error>(err: E) -> StoreError {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(inner) = source {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source = inner.source();
        }
        StoreError::Unavailable(message)
    }
}

/// Maps the error of a query that started from a client's cursor: DynamoDB's
/// ValidationException there means the cursor names a key it refuses (a 400), not an outage.
pub(crate) fn query_failed<R: std::fmt::Debug>(
    err: aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::query::QueryError, R>,
    from_cursor: bool,
) -> StoreError {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    if from_cursor
        && err.as_service_error().and_then(ProvideErrorMetadata::code)
            == Some("ValidationException")
    {
        StoreError::InvalidCursor
    } else {
        StoreError::sdk(err)
    }
}

/// SDK operation errors that can say whether a condition expression failed.
pub(crate) trait ConditionalCheck {
    fn is_condition_failed(&self) -> bool;
}

macro_rules! conditional_check {
    ($($error:ty),*) => {$(
        impl ConditionalCheck for $error {
            fn is_condition_failed(&self) -> bool {
                self.is_conditional_check_failed_exception()
            }
        }
    )*};
}

conditional_check!(
    aws_sdk_dynamodb::operation::put_item::PutItemError,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError
);

/// Maps an SDK error of a conditional write: a failed condition is `on_condition`, anything
/// else [`StoreError::Unavailable`].
pub(crate) fn conditional<E, R>(
    err: aws_sdk_dynamodb::error::SdkError<E, R>,
    on_condition: StoreError,
) -> StoreError
where
    E: ConditionalCheck + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if err
        .as_service_error()
        .is_some_and(ConditionalCheck::is_condition_failed)
    {
        on_condition
    } else {
        StoreError::sdk(err)
    }
}

/// The result of a conditional write as a flag: `true` when it happened, `false` when its
/// condition failed (anything else is [`StoreError::Unavailable`]).
pub(crate) fn written<T, E, R>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<bool, StoreError>
where
    E: ConditionalCheck + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(ConditionalCheck::is_condition_failed) =>
        {
            Ok(false)
        }
        Err(e) => Err(StoreError::sdk(e)),
    }
}
