//! A request's body read whole, up to a limit.
//!
//! `BodyExt::collect` builds a list of frames around every body and then joins it: for the
//! bench's ~150-byte POST that was ~960 instructions, a twentieth of the mock's whole work per
//! request. Most bodies arrive in one frame (sent with a `Content-Length`, in one write); that
//! frame is kept as hyper handed it. Only a body in several frames is copied into one buffer.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;

/// The body's bytes, or `None` when it is over `limit` bytes or fails (cut off, say).
/// Trailers are not part of it. A body hyper knows is empty (most requests: a GET) is not
/// polled at all.
pub async fn read_whole<B>(body: B, limit: usize) -> Option<Bytes>
where
    B: hyper::body::Body<Data = Bytes>,
{
    if body.is_end_stream() {
        return Some(Bytes::new());
    }
    let mut body = std::pin::pin!(body);
    let (mut first, mut joined): (Option<Bytes>, Option<BytesMut>) = (None, None);
    let mut size = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.ok()?.into_data() else {
            continue;
        };
        size = size.checked_add(data.len()).filter(|&n| n <= limit)?;
        match (&mut joined, first.take()) {
            (Some(all), _) => all.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(before)) => {
                let mut all = BytesMut::with_capacity(size);
                all.extend_from_slice(&before);
                all.extend_from_slice(&data);
                joined = Some(all);
            }
        }
    }
    Some(joined.map(BytesMut::freeze).or(first).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::StreamBody;
    use hyper::body::Frame;

    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn body(frames: Vec<Item>) -> StreamBody<futures::stream::Iter<std::vec::IntoIter<Item>>> {
        StreamBody::new(futures::stream::iter(frames))
    }

    fn data(text: &'static str) -> Item {
        Ok(Frame::data(Bytes::from_static(text.as_bytes())))
    }

    #[tokio::test]
    async fn one_frame_is_kept_as_handed_several_are_joined() {
        let frame = Bytes::from(b"{\"a\":1}".to_vec());
        let got = read_whole(body(vec![Ok(Frame::data(frame.clone()))]), 100).await;
        let got = got.expect("under the limit");
        assert_eq!(got.as_ptr(), frame.as_ptr(), "the frame itself, not a copy");
        let got = read_whole(body(vec![data("ab"), data(""), data("cd"), data("e")]), 100).await;
        assert_eq!(got.as_deref(), Some(&b"abcde"[..]));
        assert_eq!(read_whole(body(vec![]), 100).await.as_deref(), Some(&b""[..]));
    }

    #[tokio::test]
    async fn the_limit_counts_every_frame() {
        assert_eq!(
            read_whole(body(vec![data("abc"), data("de")]), 5).await.as_deref(),
            Some(&b"abcde"[..])
        );
        assert_eq!(read_whole(body(vec![data("abc"), data("def")]), 5).await, None);
        assert_eq!(read_whole(body(vec![data("abcdef")]), 5).await, None);
    }

    #[tokio::test]
    async fn a_failed_body_is_none_and_trailers_are_not_the_body() {
        let cut = Err(std::io::Error::other("cut off"));
        assert_eq!(read_whole(body(vec![data("ab"), cut]), 100).await, None);
        let trailers = Ok(Frame::trailers(hyper::HeaderMap::new()));
        assert_eq!(
            read_whole(body(vec![data("ab"), trailers]), 100).await.as_deref(),
            Some(&b"ab"[..])
        );
    }
}
