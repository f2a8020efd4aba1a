//! A small Chrome DevTools Protocol client: starts Debian's headless Chromium, opens one
//! page, and answers what a page test asks — what went wrong while it loaded (console errors,
//! exceptions, failed or non-local requests), the value of a JavaScript expression, what a
//! mouse over an element shows, and a screenshot.
//!
//! The protocol runs over `--remote-debugging-pipe`: Chromium reads commands from file
//! descriptor 3 and writes answers and events to descriptor 4, each message one JSON object
//! followed by a NUL byte. A `sh -c 'exec …'` wrapper connects them to the child's stdin and
//! stdout, so no port, no WebSocket and no `unsafe` are needed. Every wait has a deadline;
//! the browser is closed (and killed if it does not close) when the [`Browser`] is dropped.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long one protocol command or one awaited event may take (the CI machine is shared).
pub const WAIT: Duration = Duration::from_secs(60);

/// The viewport every page is opened in, CSS pixels.
pub const VIEWPORT: (u32, u32) = (1280, 900);

/// Executable names tried in `PATH`, in order; `STREAMLAB_CHROMIUM` overrides them.
const CANDIDATES: [&str; 4] = [
    "chromium-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
];

/// Where the browser comes from, for messages.
pub const INSTALL_HINT: &str = ".ci/run installs it: apt-get install -y chromium-headless-shell";

/// The Chromium executable: `STREAMLAB_CHROMIUM` if set, else the first candidate in `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STREAMLAB_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    CANDIDATES.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The `file://` URL of an absolute path, bytes outside `A–Z a–z 0–9 - . _ ~ /`
/// percent-encoded.
pub fn file_url(abs: &Path) -> String {
    let mut url = String::from("file://");
    for &c in abs.as_os_str().as_encoded_bytes() {
        if c.is_ascii_alphanumeric() || b"-._~/".contains(&c) {
            url.push(c as char);
        } else {
            url.push_str(&format!("%{c:02X}"));
        }
    }
    url
}

/// A running headless Chromium with one attached page.
pub struct Browser {
    child: Child,
    to_browser: ChildStdin,
    from_browser: Receiver<Value>,
    /// Events read while waiting for something else, in arrival order.
    pending: Vec<Value>,
    next_id: u64,
    /// The flattened session of the page target.
    session: String,
    /// Everything the page did wrong so far, in words.
    problems: Vec<String>,
    /// URL of each request by request id, to name a failed one.
    requests: Vec<(String, String)>,
    /// The temporary profile directory (removed on drop); Chromium's stderr goes there too.
    profile: PathBuf,
}

impl Browser {
    /// Starts `exe` headless with a fresh profile and attaches to a blank page of
    /// [`VIEWPORT`] size with the Page, Runtime, Log and Network domains enabled.
    pub fn launch(exe: &Path) -> Result<Browser, String> {
        let profile = std::env::temp_dir().join(format!(
            "streamlab-chromium-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).map_err(|e| format!("{}: {e}", profile.display()))?;
        let log = std::fs::File::create(profile.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 3<&0 4>&1 0</dev/null 1>/dev/null")
            .arg(exe)
            .args([
                "--headless",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--mute-audio",
                "--force-color-profile=srgb",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let to_browser = child.stdin.take().ok_or("no pipe to the browser")?;
        let stdout = child.stdout.take().ok_or("no pipe from the browser")?;
        let (tx, from_browser) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if buf.last() == Some(&0) {
                            buf.pop();
                        }
                        let Ok(v) = serde_json::from_slice::<Value>(&buf) else {
                            continue;
                        };
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            to_browser,
            from_browser,
            pending: Vec::new(),
            next_id: 0,
            session: String::new(),
            problems: Vec::new(),
            requests: Vec::new(),
            profile,
        };
        b.attach()
            .map_err(|e| format!("{e}\n--- chromium stderr\n{}", b.stderr()))?;
        Ok(b)
    }

    /// Creates the page target, attaches to it and enables the domains the checks read.
    fn attach(&mut self) -> Result<(), String> {
        let target = self.browser_call("Target.createTarget", json!({"url": "about:blank"}))?;
        let id = target["targetId"]
            .as_str()
            .ok_or("no targetId")?
            .to_string();
        let attached = self.browser_call(
            "Target.attachToTarget",
            json!({"targetId": id, "flatten": true}),
        )?;
        self.session = attached["sessionId"]
            .as_str()
            .ok_or("no sessionId")?
            .to_string();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            self.call(&format!("{domain}.enable"), json!({}))?;
        }
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        Ok(())
    }

    /// The tail of Chromium's stderr (for failure messages).
    pub fn stderr(&self) -> String {
        let text = std::fs::read_to_string(self.profile.join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Opens `url` in the page and waits for its load event; returns how long that took
    /// (navigation to load event: parsing, layout, scripts, resources). [`Browser::problems`]
    /// from now on are this page's.
    pub fn open(&mut self, url: &str) -> Result<Duration, String> {
        self.problems()?;
        self.problems.clear();
        self.requests.clear();
        let started = Instant::now();
        let nav = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(err) = nav.get("errorText").and_then(Value::as_str) {
            return Err(format!("navigating to {url}: {err}"));
        }
        self.wait_event("Page.loadEventFired")?;
        Ok(started.elapsed())
    }

    /// Opens a local file (see [`Browser::open`]).
    pub fn open_file(&mut self, path: &Path) -> Result<Duration, String> {
        let abs = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.open(&file_url(&abs))
    }

    /// Everything that went wrong in the page opened last: console errors and assertions, uncaught
    /// exceptions, error log entries (e.g. a resource that failed to load), failed requests
    /// and requests for anything but `file:` and `data:` URLs.
    pub fn problems(&mut self) -> Result<Vec<String>, String> {
        // a round trip: every event the page sent before it has been read
        self.call("Runtime.evaluate", json!({"expression": "0"}))?;
        let events = std::mem::take(&mut self.pending);
        for e in &events {
            self.note(e);
        }
        Ok(self.problems.clone())
    }

    /// Records a problem an event tells of (other events are ignored).
    fn note(&mut self, e: &Value) {
        let p = &e["params"];
        match e["method"].as_str().unwrap_or("") {
            "Runtime.consoleAPICalled"
                if matches!(p["type"].as_str(), Some("error" | "assert")) =>
            {
                let args: Vec<String> = p["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| match &a["value"] {
                        Value::String(s) => s.clone(),
                        Value::Null => a["description"].as_str().unwrap_or("").to_string(),
                        v => v.to_string(),
                    })
                    .collect();
                self.problems.push(format!(
                    "console.{}: {}",
                    p["type"].as_str().unwrap_or(""),
                    args.join(" ")
                ));
            }
            "Runtime.exceptionThrown" => {
                let d = &p["exceptionDetails"];
                let what = d["exception"]["description"]
                    .as_str()
                    .or(d["text"].as_str())
                    .unwrap_or("?");
                self.problems.push(format!(
                    "uncaught exception at {}:{}: {what}",
                    d["lineNumber"], d["columnNumber"]
                ));
            }
            "Log.entryAdded" if p["entry"]["level"] == "error" => {
                let en = &p["entry"];
                self.problems.push(format!(
                    "log error ({}): {} {}",
                    en["source"].as_str().unwrap_or(""),
                    en["text"].as_str().unwrap_or(""),
                    en["url"].as_str().unwrap_or("")
                ));
            }
            "Network.requestWillBeSent" => {
                let id = p["requestId"].as_str().unwrap_or("").to_string();
                let url = p["request"]["url"].as_str().unwrap_or("").to_string();
                if !(url.starts_with("file:") || url.starts_with("data:")) {
                    self.problems
                        .push(format!("request to a non-local URL: {url}"));
                }
                self.requests.push((id, url));
            }
            "Network.loadingFailed" => {
                let id = p["requestId"].as_str().unwrap_or("");
                let url = self
                    .requests
                    .iter()
                    .rev()
                    .find(|(i, _)| i == id)
                    .map_or("?", |(_, u)| u.as_str());
                self.problems.push(format!(
                    "request failed: {url}: {}",
                    p["errorText"].as_str().unwrap_or("")
                ));
            }
            _ => {}
        }
    }

    /// The value of a JavaScript expression (it must be JSON-serialisable); an exception is
    /// an error.
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )?;
        if let Some(d) = r.get("exceptionDetails") {
            return Err(format!(
                "`{expression}` threw: {}",
                d["exception"]["description"].as_str().unwrap_or("?")
            ));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Moves the mouse to viewport point (`x`, `y`), CSS pixels, coming from the top-left
    /// corner, so that a hover handler sees an enter even when the mouse was there already.
    pub fn mouse_move(&mut self, x: f64, y: f64) -> Result<(), String> {
        for (x, y) in [(0.0, 0.0), (x, y)] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": "mouseMoved", "x": x, "y": y}),
            )?;
        }
        Ok(())
    }

    /// A PNG screenshot of the viewport as it is scrolled now, or of the whole box of `clip` (a
    /// CSS selector) when given.
    pub fn screenshot(&mut self, clip: Option<&str>) -> Result<Vec<u8>, String> {
        let mut params = json!({"format": "png"});
        if let Some(selector) = clip {
            let sel = serde_json::to_string(selector).expect("a string serialises");
            let r = self.eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
                 const r = e.getBoundingClientRect(); \
                 return [r.x + scrollX, r.y + scrollY, r.width, r.height]; }})()"
            ))?;
            let b: Vec<f64> = r
                .as_array()
                .ok_or(format!("no element {selector} to screenshot"))?
                .iter()
                .filter_map(Value::as_f64)
                .collect();
            params["clip"] = json!({"x": b[0], "y": b[1], "width": b[2].max(1.0), "height": b[3].max(1.0), "scale": 1});
            params["captureBeyondViewport"] = json!(true);
        }
        let r = self.call("Page.captureScreenshot", params)?;
        let data = r["data"].as_str().ok_or("no screenshot data")?;
        crate::pixels::base64_decode(data)
    }

    /// Sends a command to the page's session and waits for its answer.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// Sends a command to the browser itself and waits for its answer.
    fn browser_call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.send(method, params, None)
    }

    fn send(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("a message serialises");
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .and_then(|()| self.to_browser.flush())
            .map_err(|e| format!("{method}: the browser's pipe closed: {e}"))?;
        let deadline = Instant::now() + WAIT;
        loop {
            let m = self.receive(deadline, method)?;
            if m["id"] == id {
                if let Some(err) = m.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(m["result"].clone());
            }
            if m.get("method").is_some() {
                self.pending.push(m);
            }
        }
    }

    /// Waits for the page event `method` (one already read counts).
    pub fn wait_event(&mut self, method: &str) -> Result<Value, String> {
        if let Some(i) = self.pending.iter().position(|e| e["method"] == method) {
            return Ok(self.pending[i].clone());
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let m = self.receive(deadline, method)?;
            let hit = m["method"] == method;
            if m.get("method").is_some() {
                self.pending.push(m.clone());
            }
            if hit {
                return Ok(m);
            }
        }
    }

    /// The next message from the browser, waiting until `deadline` at most.
    fn receive(&mut self, deadline: Instant, what: &str) -> Result<Value, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from_browser.recv_timeout(left) {
            Ok(m) => Ok(m),
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "{what}: no answer from the browser within {WAIT:?}"
            )),
            Err(RecvTimeoutError::Disconnected) => Err(format!(
                "{what}: the browser exited\n--- chromium stderr\n{}",
                self.stderr()
            )),
        }
    }
}

impl Drop for Browser {
    /// Asks the browser to close, kills it if it has not exited within two seconds, and
    /// removes its profile.
    fn drop(&mut self) {
        let _ = self
            .to_browser
            .write_all(b"{\"id\":0,\"method\":\"Browser.close\"}\0");
        let _ = self.to_browser.flush();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[cfg(test)]
mod tests {
    use super::file_url;
    use std::path::Path;

    #[test]
    fn file_urls_encode_what_a_url_cannot_hold() {
        assert_eq!(
            file_url(Path::new("/tmp/a-b_c.d/r.html")),
            "file:///tmp/a-b_c.d/r.html"
        );
        assert_eq!(
            file_url(Path::new("/tmp/my dir/#1?%/ü.html")),
            "file:///tmp/my%20dir/%231%3F%25/%C3%BC.html"
        );
    }
}
