//! Real local HTTP peers for the security suite: an attacker's listener that counts every TCP
//! connection it gets, and providers that answer with a banner or a huge body.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a [`Peer`] answers to every request.
#[derive(Clone)]
pub enum Answer {
    /// A 400 token error whose description is `banner` (an internal service's words).
    Refusal { banner: String },
    /// A 200 with a body of `len` bytes, with a `Content-Length` or chunked.
    Huge { len: usize, chunked: bool },
}

/// An HTTP listener on 127.0.0.1 that counts the connections made to it.
pub struct Peer {
    pub port: u16,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Peer {
    pub async fn start(answer: Answer) -> Peer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let answer = answer.clone();
                tokio::spawn(async move {
                    // Read the request head (and whatever body came with it).
                    let mut buf = vec![0u8; 64 * 1024];
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_millis(500),
                        socket.read(&mut buf),
                    )
                    .await;
                    let _ = write_answer(&mut socket, &answer).await;
                });
            }
        });
        Peer {
            port,
            connections,
            task,
        }
    }

    /// How many TCP connections reached this peer.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn write_answer(socket: &mut tokio::net::TcpStream, answer: &Answer) -> std::io::Result<()> {
    match answer {
        Answer::Refusal { banner } => {
            let body = serde_json::json!({"error": "invalid_request", "error_description": banner})
                .to_string();
            let head = format!("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(body.as_bytes()).await
        }
        Answer::Huge { len, chunked } => {
            let chunk = vec![b'a'; 64 * 1024];
            if *chunked {
                socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").await?;
                let mut sent = 0;
                while sent < *len {
                    socket
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await?;
                    socket.write_all(&chunk).await?;
                    socket.write_all(b"\r\n").await?;
                    sent += chunk.len();
                }
                socket.write_all(b"0\r\n\r\n").await
            } else {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
                socket.write_all(head.as_bytes()).await?;
                let mut sent = 0;
                while sent < *len {
                    socket.write_all(&chunk).await?;
                    sent += chunk.len();
                }
                Ok(())
            }
        }
    }
}
