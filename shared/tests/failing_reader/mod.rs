//! A reader that fails halfway, shared by the object store tests.

/// Yields `left` bytes, then an error, like a dump process that crashed midway.
pub struct FailingReader {
    pub left: usize,
}

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.left == 0 {
            return std::task::Poll::Ready(Err(std::io::Error::other("dump crashed")));
        }
        let n = self.left.min(buf.remaining());
        buf.put_slice(&vec![b'x'; n]);
        self.left -= n;
        std::task::Poll::Ready(Ok(()))
    }
}
