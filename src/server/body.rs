//! The mock's response body: whole; cut short on purpose (the truncated-body fault), in
//! which case it announces its full length, sends the first half and then fails, so hyper
//! closes the connection mid-body as a broken partner or proxy would; or an oversized JSON
//! document made on the fly (`{"padding":"xxx..."}`), so that a 1 GB answer costs 64 KB of
//! memory, not 1 GB.

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
    /// `{"padding":"` + `fill` x's + `"}`, streamed.
    Padding {
        head_sent: bool,
        fill: u64,
        tail_sent: bool,
    },
}

/// What the padding is made of, sent again and again.
static XS: [u8; 64 * 1024] = [b'x'; 64 * 1024];
const PAD_HEAD: &[u8] = b"{\"padding\":\"";
const PAD_TAIL: &[u8] = b"\"}";

impl MockBody {
    pub fn whole(b: impl Into<Bytes>) -> MockBody {
        MockBody::Whole(Some(b.into()))
    }

    /// A JSON document of exactly `n` bytes (at least 14), streamed.
    pub fn padding(n: usize) -> MockBody {
        let fixed = (PAD_HEAD.len() + PAD_TAIL.len()) as u64;
        MockBody::Padding {
            head_sent: false,
            fill: (n as u64).saturating_sub(fixed),
            tail_sent: false,
        }
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
            MockBody::Padding {
                head_sent,
                fill,
                tail_sent,
            } => {
                if !*head_sent {
                    *head_sent = true;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(PAD_HEAD)))));
                }
                if *fill > 0 {
                    let n = (*fill).min(XS.len() as u64) as usize;
                    *fill -= n as u64;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&XS[..n])))));
                }
                if !*tail_sent {
                    *tail_sent = true;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(PAD_TAIL)))));
                }
                Poll::Ready(None)
            }
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
        matches!(self, MockBody::Whole(None) | MockBody::Padding { tail_sent: true, .. })
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Whole(Some(b)) => SizeHint::with_exact(b.len() as u64),
            MockBody::Whole(None) => SizeHint::with_exact(0),
            MockBody::Truncated { full_len, .. } => SizeHint::with_exact(*full_len),
            MockBody::Padding {
                head_sent,
                fill,
                tail_sent,
            } => SizeHint::with_exact(
                if *head_sent { 0 } else { PAD_HEAD.len() as u64 }
                    + *fill
                    + if *tail_sent { 0 } else { PAD_TAIL.len() as u64 },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    #[tokio::test]
    async fn padding_streams_exactly_the_size_asked_as_valid_json() {
        for n in [14, 100, 200_000] {
            let body = MockBody::padding(n);
            assert_eq!(body.size_hint().exact(), Some(n as u64));
            let bytes = body.collect().await.expect("a body").to_bytes();
            assert_eq!(bytes.len(), n);
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
            assert_eq!(v["padding"].as_str().map(str::len), Some(n - 14));
        }
    }
}
