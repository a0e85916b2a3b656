//! `gavel health`: a probe for container runtimes that have no curl (the Docker image's
//! HEALTHCHECK). It sends one plain HTTP GET and exits 0 only on a 2xx answer.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

/// Connect, send and read within this time each, so a hung server fails the probe.
const TIMEOUT: Duration = Duration::from_secs(3);

pub fn probe(url: &str) -> ExitCode {
    match status(url) {
        Ok(code) if (200..300).contains(&code) => ExitCode::SUCCESS,
        Ok(code) => {
            eprintln!("gavel health: {url} answered {code}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("gavel health: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The status code of `GET url` (http only: TLS is the proxy's job, probes stay inside).
fn status(url: &str) -> Result<u16, String> {
    let url = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if url.scheme() != "http" {
        return Err("only http:// URLs can be probed".to_owned());
    }
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("the host has no address")?;
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(TIMEOUT)).ok();
    stream.set_write_timeout(Some(TIMEOUT)).ok();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n",
        &url[url::Position::BeforePath..]
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    // The status line fits in the first bytes; the body is not needed.
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", line.trim()))
}
