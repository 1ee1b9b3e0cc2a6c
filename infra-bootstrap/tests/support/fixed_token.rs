//! Credentials that always send `Authorization: Bearer test-token`, for the REST clients
//! (Budgets) pointed at a local server: no Google token endpoint is ever asked.

use google_cloud_auth::credentials::{
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};

#[derive(Debug)]
struct FixedToken;

impl CredentialsProvider for FixedToken {
    async fn headers(
        &self,
        _: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, google_cloud_auth::errors::CredentialsError>
    {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "authorization",
            http::HeaderValue::from_static("Bearer test-token"),
        );
        Ok(CacheableResource::New {
            entity_tag: EntityTag::new(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// Credentials sending `Bearer test-token`.
pub fn fixed_token() -> Credentials {
    Credentials::from(FixedToken)
}
