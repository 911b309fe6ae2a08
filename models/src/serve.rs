//! `check serve`: stateright's web explorer, behind a thin front that makes
//! it fit ruft's counterexamples.
//!
//! The explorer itself is stateright's, unchanged: it runs on a loopback
//! port of its own, and the front, on the address the user asked for,
//! passes every request through. Only its page is amended: a banner states
//! the model's flags (a counterexample link means something only for the
//! model it was made on), and a script checks the link being opened: one
//! that does not resolve on this model says so, instead of the start page
//! stateright shows in silence. What each state shows (the step, its
//! messages, every node's disk and ghost, the properties judged on it, with
//! their reasons) is what the model renders (`explain::step_view`).

use crate::model::RuftModel;
use stateright::Model;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Why the explorer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is taken, or not one of this machine's.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// stateright's explorer did not come up on its loopback port.
    #[error("the explorer did not start: {0}")]
    Inner(String),
}

/// The explorer's front, bound and ready to serve.
pub struct Explorer {
    front: tiny_http::Server,
    inner: SocketAddr,
    page: Vec<u8>,
}

impl Explorer {
    /// Binds `addr`, starts stateright's explorer for `model` on a loopback
    /// port of its own, and prepares the amended page.
    pub fn start(model: RuftModel, addr: SocketAddr) -> Result<Explorer, ServeError> {
        let front =
            tiny_http::Server::http(addr).map_err(|source| ServeError::Listen { addr, source })?;
        let inner = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| ServeError::Inner(e.to_string()))?;
        let flags = model.cfg.flags();
        std::thread::spawn(move || {
            model.checker().threads(2).serve(inner);
        });
        let page = wait_for_page(inner)?;
        Ok(Explorer {
            front,
            inner,
            page: amend(&page, &flags),
        })
    }

    /// Serves until the process ends.
    pub fn run(self) {
        for mut rq in self.front.incoming_requests() {
            let response = if rq.url() == "/" && *rq.method() == tiny_http::Method::Get {
                page_response(self.page.clone())
            } else {
                let mut body = Vec::new();
                let _ = rq.as_reader().read_to_end(&mut body);
                match exchange(self.inner, rq.method().as_str(), rq.url(), &body) {
                    Ok((status, kind, bytes)) => {
                        let mut r = tiny_http::Response::from_data(bytes).with_status_code(status);
                        if let Some(kind) = kind.and_then(|k| content_type(&k)) {
                            r = r.with_header(kind);
                        }
                        r
                    }
                    Err(e) => tiny_http::Response::from_string(format!("explorer: {e}"))
                        .with_status_code(502),
                }
            };
            let _ = rq.respond(response);
        }
    }
}

fn page_response(page: Vec<u8>) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let r = tiny_http::Response::from_data(page);
    match content_type("text/html; charset=utf-8") {
        Some(h) => r.with_header(h),
        None => r,
    }
}

fn content_type(value: &str) -> Option<tiny_http::Header> {
    tiny_http::Header::from_bytes("Content-Type", value).ok()
}

/// stateright's page, fetched once its server answers (within 10 s).
fn wait_for_page(inner: SocketAddr) -> Result<Vec<u8>, ServeError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match exchange(inner, "GET", "/", &[]) {
            Ok((200, _, page)) => return Ok(page),
            Ok((status, _, _)) => return Err(ServeError::Inner(format!("status {status}"))),
            Err(e) if Instant::now() > deadline => return Err(ServeError::Inner(e.to_string())),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// One HTTP/1.0 exchange with an explorer (which then answers with a plain
/// body, never chunked, and closes): status, content type, body. The front
/// uses it to reach stateright's server; tests use it to reach the front.
pub fn exchange(
    addr: SocketAddr,
    method: &str,
    url: &str,
    body: &[u8],
) -> std::io::Result<(u16, Option<String>, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "{method} {url} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let kind = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-type")
            .then(|| value.trim().to_string())
    });
    Ok((status, kind, raw[split + 4..].to_vec()))
}

/// stateright's page with the model's banner and the link check added.
fn amend(page: &[u8], raw_flags: &str) -> Vec<u8> {
    let page = String::from_utf8_lossy(page);
    let flags = crate::html::escape(raw_flags);
    let banner = format!(
        r#"<div id="ruft-model" class="font-code color-dark padding-small">ruft model: check serve {flags}</div>
<div id="ruft-missing" class="font-code padding-small" style="display:none;background:#a33;color:#fff"></div>
<script>
(function () {{
  var flags = {flags_js};
  function check() {{
    var warn = document.getElementById('ruft-missing');
    var m = (window.location.hash.split('?')[0]).match(/^#\/steps\/(.+)$/);
    if (!m) {{ warn.style.display = 'none'; return; }}
    fetch('/.states/' + m[1]).then(function (r) {{
      if (r.ok) {{ warn.style.display = 'none'; return; }}
      return r.text().then(function (why) {{
        warn.textContent = 'This link does not resolve on this model (check serve ' + flags +
          '): ' + why + '. It was made on a model with other flags, or it is mistyped; ' +
          'restart the explorer with the flags printed next to the link.';
        warn.style.display = 'block';
      }});
    }});
  }}
  window.addEventListener('hashchange', check);
  check();
}})();
</script>
"#,
        flags_js = serde_json::Value::String(raw_flags.to_string())
    );
    let page = page.replacen(
        "<title>Stateright Explorer</title>",
        "<title>ruft explorer (Stateright)</title>",
        1,
    );
    match page.find("<main") {
        Some(at) => format!("{}{banner}{}", &page[..at], &page[at..]).into_bytes(),
        None => format!("{page}{banner}").into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_gains_the_banner_before_the_explorer_and_keeps_the_rest() {
        let page = b"<html><head><title>Stateright Explorer</title></head><body><header>h</header><main>m</main></body></html>";
        let amended = String::from_utf8(amend(page, "--nodes 3 --mutant vote-twice")).unwrap();
        let banner = amended
            .find("ruft model: check serve --nodes 3 --mutant vote-twice")
            .unwrap();
        assert!(banner < amended.find("<main>").unwrap());
        assert!(amended.contains("<header>h</header>") && amended.contains("<main>m</main>"));
        assert!(amended.contains("does not resolve on this model"));
        assert!(amended.contains("<title>ruft explorer (Stateright)</title>"));
    }
}
