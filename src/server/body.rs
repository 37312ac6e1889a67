//! The mock's response body: whole, or cut short on purpose (the truncated-body fault), in
//! which case it announces its full length, sends the first half and then fails, so hyper
//! closes the connection mid-body as a broken partner or proxy would.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

#[derive(Debug)]
pub enum MockBody {
    Whole(Option<Bytes>),
    Truncated {
        head: Option<Bytes>,
        full_len: u64,
        /// A pause after the head, so hyper flushes the status, headers and half the body
        /// before the failure closes the connection (else the client sees no answer at all).
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

impl MockBody {
    pub fn whole(b: impl Into<Bytes>) -> MockBody {
        MockBody::Whole(Some(b.into()))
    }

    /// The first half of `b`, announced with its full length.
    pub fn truncated(b: Bytes) -> MockBody {
        let full_len = b.len() as u64;
        MockBody::Truncated {
            head: Some(b.slice(..b.len() / 2)),
            full_len,
            pause: None,
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            MockBody::Whole(b) => Poll::Ready(b.take().map(|d| Ok(Frame::data(d)))),
            MockBody::Truncated { head, pause, .. } => {
                if let Some(d) = head.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                let sleep =
                    pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50))));
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other("contrail fault: body truncated")))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Whole(Some(b)) => SizeHint::with_exact(b.len() as u64),
            MockBody::Whole(None) => SizeHint::with_exact(0),
            MockBody::Truncated { full_len, .. } => SizeHint::with_exact(*full_len),
        }
    }
}
