//! oauth2 5 integrates with reqwest 0.12 only; this adapter lets it use the project's reqwest
//! 0.13, so that one HTTP stack serves Azure, sign-in and the tests.

use std::future::Future;
use std::pin::Pin;

use oauth2::{HttpRequest, HttpResponse};

#[derive(Clone)]
pub struct OAuthHttp(pub reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = request.try_into().map_err(Box::new)?;
            let response = self.0.execute(request).await.map_err(Box::new)?;
            let mut builder = oauth2::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(Box::new)?;
            builder
                .body(body.to_vec())
                .map_err(oauth2::HttpClientError::Http)
        })
    }
}
