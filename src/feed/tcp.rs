//! A feed's TCP connection, which can leave the runtime's reactor while the feed waits between paced
//! reads (see `ws::FeedOptions::read_pace`).
//!
//! A socket registered with the reactor wakes the runtime's thread for every segment that arrives,
//! even when no task is waiting to read it: at a few hundred frames a second that was one thread
//! wake-up per frame, most of a quiet dashboard's kernel time. Parked, the socket is only a file
//! descriptor: the kernel queues what arrives and nothing wakes. The next read or write joins the
//! reactor again (two `epoll_ctl` calls per pacing tick instead of a wake-up per frame); a socket
//! joined with data queued is reported readable at once.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream that can be parked out of the reactor (see the module docs).
#[derive(Debug)]
pub struct ParkableTcp {
    state: State,
}

#[derive(Debug)]
enum State {
    Joined(TcpStream),
    Parked(std::net::TcpStream),
    /// Leaving or joining the reactor failed: every later read and write fails with this.
    Failed(io::ErrorKind),
}

impl ParkableTcp {
    /// Wraps a connected stream.
    #[must_use]
    pub fn new(stream: TcpStream) -> Self {
        Self {
            state: State::Joined(stream),
        }
    }

    /// Leaves the reactor until the next read or write (nothing if parked already).
    pub fn park(&mut self) {
        if let State::Joined(_) = self.state {
            let State::Joined(s) =
                std::mem::replace(&mut self.state, State::Failed(io::ErrorKind::Other))
            else {
                return;
            };
            // `into_std` deregisters and leaves the socket non-blocking, as `from_std` needs it.
            self.state = match s.into_std() {
                Ok(s) => State::Parked(s),
                Err(e) => State::Failed(e.kind()),
            };
        }
    }

    /// Whether the stream is out of the reactor.
    #[must_use]
    pub fn is_parked(&self) -> bool {
        matches!(self.state, State::Parked(_))
    }

    /// The stream in the reactor, joining it again if parked.
    ///
    /// # Errors
    /// Registering with the reactor failed (now or at an earlier park).
    pub fn joined(&mut self) -> io::Result<&mut TcpStream> {
        if let State::Parked(_) = self.state {
            let State::Parked(s) =
                std::mem::replace(&mut self.state, State::Failed(io::ErrorKind::Other))
            else {
                return Err(io::ErrorKind::Other.into());
            };
            self.state = match TcpStream::from_std(s) {
                Ok(s) => State::Joined(s),
                Err(e) => State::Failed(e.kind()),
            };
        }
        match &mut self.state {
            State::Joined(s) => Ok(s),
            State::Parked(_) => Err(io::ErrorKind::Other.into()),
            State::Failed(kind) => Err(io::Error::new(
                *kind,
                "the socket could not rejoin the runtime",
            )),
        }
    }
}

impl AsyncRead for ParkableTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().joined() {
            Ok(s) => Pin::new(s).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for ParkableTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().joined() {
            Ok(s) => Pin::new(s).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().joined() {
            Ok(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().joined() {
            Ok(s) => Pin::new(s).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().joined() {
            Ok(s) => Pin::new(s).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn a_parked_stream_keeps_what_arrives_and_reads_and_writes_when_joined() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");
        let mut s = ParkableTcp::new(client);
        s.park();
        assert!(s.is_parked());
        s.park(); // twice is once
        server.write_all(b"while parked").await.expect("write");
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"while parked");
        assert!(!s.is_parked());
        s.park();
        s.write_all(b"pong").await.expect("write");
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"pong");
        // The peer closes while the stream is parked: the next read sees the end.
        s.park();
        drop(server);
        let mut rest = Vec::new();
        assert_eq!(s.read_to_end(&mut rest).await.expect("read"), 0);
    }
}
