//! A pipe from the dump to the upload that ends cleanly only when the dump succeeded.
//!
//! The object store uploads whatever its reader yields until end-of-file, and publishes the
//! object at end-of-file. A plain pipe would turn a failed `pg_dump` (writer dropped early)
//! into a clean end-of-file and so into a truncated object that looks complete. Here the
//! end-of-file only counts once the writer side says the dump succeeded; otherwise the
//! reader fails and the store abandons the upload. (Hand-written: no crate offers a pipe
//! whose end-of-file carries a verdict.)

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, DuplexStream, ReadBuf};
use tokio::sync::oneshot;

/// The pipe's buffer: one dump chunk in flight, so memory stays bounded.
const PIPE_BUFFER: usize = 64 * 1024;

/// The writing end: the dump writes into `writer`, then calls [`DumpSide::succeeded`].
pub struct DumpSide {
    /// Where the dump's bytes go.
    pub writer: DuplexStream,
    verdict: oneshot::Sender<()>,
}

impl DumpSide {
    /// The dump is complete: the reader may end. Dropping the side without this call makes
    /// the reader fail instead.
    pub fn succeeded(self) {
        // The reader may be gone already (the upload failed); nothing to tell then.
        let _ = self.verdict.send(());
    }
}

/// The reading end, handed to the object store.
pub struct GatedReader {
    reader: DuplexStream,
    verdict: oneshot::Receiver<()>,
    /// The verdict once received: a reader may read again after the end (Cloud Storage's
    /// upload source does), and a oneshot must not be polled after it completed.
    ended: Option<bool>,
}

/// A new pipe.
pub fn gated_pipe() -> (DumpSide, GatedReader) {
    let (writer, reader) = tokio::io::duplex(PIPE_BUFFER);
    let (verdict, verdict_rx) = oneshot::channel();
    (
        DumpSide { writer, verdict },
        GatedReader {
            reader,
            verdict: verdict_rx,
            ended: None,
        },
    )
}

impl AsyncRead for GatedReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.reader).poll_read(cx, buf))?;
        if buf.filled().len() > before || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        // End of the pipe: a clean end only with the dump's word.
        let succeeded = match self.ended {
            Some(succeeded) => succeeded,
            None => {
                let succeeded = ready!(Pin::new(&mut self.verdict).poll(cx)).is_ok();
                self.ended = Some(succeeded);
                succeeded
            }
        };
        if succeeded {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(io::Error::other(
                "the dump stopped before completing; the upload is abandoned",
            )))
        }
    }
}
