//! [`CredentialsProvider`], the one trait every auth mode implements, and the future it returns.

use crate::credentials::Credentials;
use crate::error::{CredentialsError, Result};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Something that can produce [`Credentials`].
///
/// Object safe and async. Implementations that have a value at hand (static keys, a warm cache) return
/// [`ProvideCredentials::ready`], which allocates nothing; network providers return
/// [`ProvideCredentials::boxed`].
///
/// ```
/// use mse_auth::{Credentials, CredentialsProvider, ProvideCredentials};
///
/// #[derive(Debug)]
/// struct Fixed(Credentials);
///
/// impl CredentialsProvider for Fixed {
///     fn provide_credentials(&self) -> ProvideCredentials<'_> {
///         ProvideCredentials::ready(Ok(self.0.clone()))
///     }
/// }
/// # async fn demo() -> Result<(), mse_auth::CredentialsError> {
/// let p = Fixed(Credentials::new("LTAI5tExampleId", "example-secret", "fixed")?);
/// assert_eq!(p.provide_credentials().await?.provider_path(), "fixed");
/// # Ok(()) }
/// ```
pub trait CredentialsProvider: Send + Sync + fmt::Debug {
    /// Returns credentials, or why there are none.
    fn provide_credentials(&self) -> ProvideCredentials<'_>;
}

/// The future returned by [`CredentialsProvider::provide_credentials`]: either a value that is already
/// there (no allocation) or a boxed future.
#[must_use = "futures do nothing unless awaited"]
pub struct ProvideCredentials<'a>(State<'a>);

type BoxFuture<'a> = Pin<Box<dyn Future<Output = Result<Credentials>> + Send + 'a>>;

// Kept small (three words): the hit path moves this future around, and a `Result` holding a
// `CredentialsError` inline would be several times larger. Errors are rare, so they are boxed.
enum State<'a> {
    Ready(Option<Credentials>),
    Failed(Option<Box<CredentialsError>>),
    Pending(BoxFuture<'a>),
}

impl<'a> ProvideCredentials<'a> {
    /// A result that is already known. Does not allocate for `Ok`.
    #[inline]
    pub fn ready(result: Result<Credentials>) -> Self {
        match result {
            Ok(credentials) => Self(State::Ready(Some(credentials))),
            Err(error) => Self(State::Failed(Some(Box::new(error)))),
        }
    }

    /// Wraps (and boxes) a future.
    pub fn boxed(future: impl Future<Output = Result<Credentials>> + Send + 'a) -> Self {
        Self(State::Pending(Box::pin(future)))
    }

    /// `true` when the result is already there and awaiting it will not wait.
    pub fn is_ready(&self) -> bool {
        !matches!(self.0, State::Pending(_))
    }
}

impl fmt::Debug for ProvideCredentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            State::Ready(_) | State::Failed(_) => "ProvideCredentials::Ready",
            State::Pending(_) => "ProvideCredentials::Pending",
        })
    }
}

impl Future for ProvideCredentials<'_> {
    type Output = Result<Credentials>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        const DONE: &str = "ProvideCredentials polled after it completed";
        match &mut self.get_mut().0 {
            State::Ready(credentials) => Poll::Ready(Ok(credentials.take().expect(DONE))),
            State::Failed(error) => Poll::Ready(Err(*error.take().expect(DONE))),
            State::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

/// A cheaply clonable, type-erased [`CredentialsProvider`].
///
/// ```
/// use mse_auth::{CredentialsProvider, SharedCredentialsProvider, StaticAccessKeyProvider};
/// # async fn demo() -> Result<(), mse_auth::CredentialsError> {
/// let shared = SharedCredentialsProvider::new(StaticAccessKeyProvider::new("LTAI5tId", "secret")?);
/// let other = shared.clone();
/// assert_eq!(other.provide_credentials().await?.access_key_id(), "LTAI5tId");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SharedCredentialsProvider(Arc<dyn CredentialsProvider>);

impl SharedCredentialsProvider {
    /// Wraps a provider.
    pub fn new(provider: impl CredentialsProvider + 'static) -> Self {
        Self(Arc::new(provider))
    }
}

impl From<Arc<dyn CredentialsProvider>> for SharedCredentialsProvider {
    fn from(provider: Arc<dyn CredentialsProvider>) -> Self {
        Self(provider)
    }
}

impl CredentialsProvider for SharedCredentialsProvider {
    #[inline]
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        self.0.provide_credentials()
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for Arc<P> {
    #[inline]
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        (**self).provide_credentials()
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for Box<P> {
    #[inline]
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        (**self).provide_credentials()
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for &P {
    #[inline]
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        (**self).provide_credentials()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn ready_completes_on_first_poll() {
        let c = Credentials::new("id", "secret", "x").unwrap();
        let mut f = ProvideCredentials::ready(Ok(c.clone()));
        assert!(f.is_ready());
        match poll_once(&mut f) {
            Poll::Ready(Ok(got)) => assert!(Credentials::ptr_eq(&got, &c)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn boxed_drives_the_inner_future() {
        let mut f = ProvideCredentials::boxed(async {
            Err(CredentialsError::not_loaded("x", "nothing here"))
        });
        assert!(!f.is_ready());
        match poll_once(&mut f) {
            Poll::Ready(Err(e)) => assert!(e.is_not_loaded()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn trait_is_object_safe_through_shared_arc_and_box() {
        #[derive(Debug)]
        struct P;
        impl CredentialsProvider for P {
            fn provide_credentials(&self) -> ProvideCredentials<'_> {
                ProvideCredentials::ready(Credentials::new("id", "s", "p"))
            }
        }
        let boxed: Box<dyn CredentialsProvider> = Box::new(P);
        let shared = SharedCredentialsProvider::new(boxed);
        let arc: Arc<dyn CredentialsProvider> = Arc::new(shared.clone());
        assert!(matches!(
            poll_once(&mut arc.provide_credentials()),
            Poll::Ready(Ok(_))
        ));
    }
}
